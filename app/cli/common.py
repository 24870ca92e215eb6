"""What the command groups share: the settings read once (on first use, so that `--help` needs no
configuration), a read-only session that checks the schema, and one message for an unreachable database."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from app.observability.logging import configure_logging
from app.runtime import Runtime
from app.settings import SettingsError, load_settings
from incidents import db


class OnceEach(click.Command):
    """A command whose options may each be given once (unless `multiple`): click would keep the last of
    `--since 2d --since 3d` without a word; this is a usage error (exit 2)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        seen: set[str] = set()
        for param in order:
            if isinstance(param, click.Option) and not param.multiple and not param.count:
                if param.name in seen:
                    raise click.UsageError(f"{param.opts[0]} is given twice; give it once.", ctx=ctx)
                seen.add(param.name or "")
        return super().parse_args(ctx, args)


def runtime_of(ctx: click.Context) -> Runtime:
    """Settings are read once, on first use, so `--help` works without any configuration."""
    if "runtime" not in ctx.obj:
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        configure_logging(fmt=settings.log_format, level=settings.log_level)
        runtime = ctx.obj["runtime"] = Runtime(settings)
        ctx.find_root().call_on_close(runtime.close)
    return ctx.obj["runtime"]


def database_problem(exc: Exception, runtime: Runtime) -> click.ClickException:
    from sqlalchemy.engine import make_url

    where = make_url(runtime.settings.effective_database_url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    return click.ClickException(
        f"Cannot reach the database at {where}: {reason}. Check DATABASE_URL and that the server is running."
    )


class reading:
    """A read-only session that turns an unreachable database into a clear message."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def __enter__(self):  # type: ignore[no-untyped-def]
        try:
            if not db.schema_is_current(self.runtime.engine):
                raise click.ClickException("The database schema is out of date: run `incidents db upgrade`.")
        except OperationalError as exc:
            raise database_problem(exc, self.runtime) from None
        self.session = self.runtime.sessions()
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.close()
