"""The `/incident help` text, written from the registered subcommands."""

from __future__ import annotations

from collections.abc import Sequence

from app.subcommands import Problem, Subcommand, usage_line
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


def problem_text(command: str, problem: Problem) -> str:
    if problem.spec is not None:
        return f"{problem.message}\nUsage: {usage_line(command, problem.spec)}"
    return f"{problem.message} Try `{command} help` for the list of commands."
