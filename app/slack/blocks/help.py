"""The `/incident help` text, written from the registered subcommands."""

from __future__ import annotations

from collections.abc import Sequence

from app.slack.subcommands import Problem, Subcommand, usage_line
from incidents.process import Process


def help_text(command: str, specs: Sequence[Subcommand], process: Process) -> str:
    anywhere = [s for s in specs if not s.needs_incident]
    inside = [s for s in specs if s.needs_incident]
    lines = [f"*{command}* runs incidents from Slack. `{command}` alone opens the declare form."]
    if anywhere:
        lines.append("\n*Anywhere*")
        lines += [f"• {usage_line(command, s)}: {s.help}" for s in anywhere]
    if inside:
        lines.append("\n*In an incident channel*")
        lines += [f"• {usage_line(command, s)}: {s.help}" for s in inside]
    lines.append("\n*Severities*: " + "; ".join(f"{s.name} ({s.meaning})" for s in process.severities))
    return "\n".join(lines)


def subcommand_help(command: str, spec: Subcommand) -> str:
    """`/incident help role`: that subcommand's usage, what it does, where it works."""
    lines = [f"Usage: {usage_line(command, spec)}", spec.help]
    if spec.aliases:
        lines.append("Also written " + ", ".join(f"`{command} {alias}`" for alias in spec.aliases) + ".")
    lines.append("Works in an incident channel, on its incident." if spec.needs_incident else "Works anywhere.")
    return "\n".join(lines)


def usage_list(command: str, specs: Sequence[Subcommand]) -> str:
    return "\n".join(f"• {usage_line(command, s)}" for s in specs)


def problem_text(command: str, problem: Problem, specs: Sequence[Subcommand] = ()) -> str:
    """What was wrong, and the usage: of the subcommand, or (unknown subcommand) of them all."""
    if problem.spec is not None:
        return f"{problem.message}\nUsage: {usage_line(command, problem.spec)}"
    if not specs:
        return f"{problem.message} Try `{command} help` for the list of commands."
    return (
        f"{problem.message} The commands are:\n{usage_list(command, specs)}\n`{command} help <command>` explains one."
    )
