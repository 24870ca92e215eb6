"""The rules of the house, read from the source with `ast` (nothing is imported):

- the domain (`incidents`) imports nothing from `app`, `slack_sdk`, `slack_bolt` or `apscheduler`;
- only the serve command, the sandbox itself and the tooling that drives the app against it (tests,
  benchmarks) import `app.sandbox`: the sandbox depends on the app, never the reverse;
- no import circles, between packages or between modules; imports inside functions count, since a lazy import
  hides a circle without removing it;
- registration is explicit: no `importlib.import_module` (or `__import__`) on module names in strings.

Each failure lists the import sites (file:line) and says what to change.
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app", "incidents", "tests", "benchmarks")
PRODUCT = ("app", "incidents")  # what ships; the import graphs are drawn over these
DOMAIN_MUST_NOT_IMPORT = ("app", "slack_sdk", "slack_bolt", "apscheduler")
SANDBOX = "app.sandbox"
# The one module that chooses HTTP, Socket Mode or the sandbox. Move this line with the serve command.
SERVE_COMMAND = "app.cli.serve"
SANDBOX_USERS = (SANDBOX, SERVE_COMMAND, "tests", "benchmarks")


@dataclass(frozen=True)
class Import:
    importer: str  # the importing module, dotted
    path: Path
    line: int
    target: str  # the module imported, absolute and dotted
    nested: bool  # inside a function: runs when it is called, not at import time
    typing_only: bool  # under `if TYPE_CHECKING:`

    def site(self) -> str:
        how = " (inside a function)" if self.nested else " (under TYPE_CHECKING)" if self.typing_only else ""
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}{how}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every Python module of the tree, by dotted name."""
    found: dict[str, Path] = {}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[module_name(path)] = path
    return found


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


class _Collector(ast.NodeVisitor):
    """The imports of one module; `known` (dotted module names) tells `from p import x` of a submodule x from
    a name x defined in p."""

    def __init__(self, importer: str, path: Path, known: Iterable[str]):
        self.importer, self.path, self.known = importer, path, set(known)
        self.is_package = path.name == "__init__.py"
        self.found: list[Import] = []
        self._depth = 0
        self._typing = 0

    def _add(self, node: ast.Import | ast.ImportFrom, target: str) -> None:
        found = Import(self.importer, self.path, node.lineno, target, self._depth > 0, self._typing > 0)
        if found not in self.found:  # `from p import a, b` of two names: one import of p
            self.found.append(found)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        typing = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        self._typing += typing
        for child in node.body:
            self.visit(child)
        self._typing -= typing
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.importer.split(".")
            if not self.is_package:
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(node, submodule if submodule in self.known else base)


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    collector = _Collector(module, modules()[module], modules())
    collector.visit(tree(modules()[module]))
    return tuple(collector.found)


def imports(under: Iterable[str]) -> list[Import]:
    tops = tuple(under)
    return [i for m in modules() if within(m, tops) for i in imports_of(m)]


def within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def package_of(module: str) -> str:
    """The package a module belongs to, for the package graph: `app.<x>` (a sub-package or a top module such as
    app.bootstrap), `incidents` for the domain's own modules and `incidents.<x>` for each of its sub-packages."""
    parts = module.split(".")
    if parts[0] == "app":
        return ".".join(parts[:2])
    if len(parts) > 2 or (len(parts) == 2 and (ROOT / "incidents" / parts[1]).is_dir()):
        return ".".join(parts[:2])
    return "incidents"


# --- the domain stays pure ------------------------------------------------------------------------------------


def test_the_domain_imports_nothing_from_the_app_slack_or_the_scheduler() -> None:
    wrong = [i for i in imports(["incidents"]) if within(i.target, DOMAIN_MUST_NOT_IMPORT)]
    assert not wrong, (
        "incidents/ records facts and never talks to the outside, but it imports "
        + ", ".join(DOMAIN_MUST_NOT_IMPORT)
        + " here:\n  "
        + "\n  ".join(i.site() for i in wrong)
        + "\nMove that code to app/ (the Slack package, a delivery handler or an adapter) and hand the domain what"
        " it needs as a parameter or a small Protocol of its own."
    )


# --- the sandbox depends on the app, never the reverse --------------------------------------------------------


def test_the_serve_command_module_exists() -> None:
    assert SERVE_COMMAND in modules(), (
        f"SERVE_COMMAND names {SERVE_COMMAND}, which does not exist: point it at the module of the serve command "
        "(the one place that chooses HTTP, Socket Mode or the sandbox)."
    )


def test_only_the_serve_command_imports_the_sandbox() -> None:
    wrong = [i for i in imports(SOURCES) if within(i.target, [SANDBOX]) and not within(i.importer, SANDBOX_USERS)]
    assert not wrong, (
        f"Only {SERVE_COMMAND} (the command that chooses HTTP, Socket Mode or the sandbox) may import {SANDBOX}, "
        "but:\n  " + "\n  ".join(i.site() for i in wrong) + "\nMove the sandbox choice into the serve command and "
        f"let {SANDBOX} call the app (build the Bolt app, the WSGI app, the worker) instead of the reverse."
    )


# --- no circles -----------------------------------------------------------------------------------------------


def graph(node_of, edges: Iterable[Import]) -> dict[str, dict[str, list[Import]]]:  # type: ignore[no-untyped-def]
    """node -> node it depends on -> the imports that make it so."""
    out: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for i in edges:
        a, b = node_of(i.importer), node_of(i.target)
        if a != b:
            out[a][b].append(i)
    return out


def circles(edges: dict[str, dict[str, list[Import]]]) -> list[list[str]]:
    """One shortest circle per strongly connected component (Tarjan), as a path that ends where it starts."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # recursion depth is the number of packages or modules: small
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    found = []
    for component in components:
        start = min(component)
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:  # breadth first, inside the component, back to `start`
            v = queue.popleft()
            if start in edges.get(v, {}):
                path = [start]
                while v != start:
                    path.insert(1, v)
                    v = previous[v]
                found.append([*path, start])
                break
            for w in sorted(edges.get(v, {})):
                if w in component and w not in previous and w != start:
                    previous[w] = v
                    queue.append(w)
    return sorted(found)


def describe(found: list[list[str]], edges: dict[str, dict[str, list[Import]]], what: str) -> str:
    lines = []
    for path in found:
        lines.append(f"Import circle among {what}: " + " -> ".join(path))
        for a, b in zip(path, path[1:], strict=False):
            lines.append(f"  {a} -> {b}:")
            lines.extend(f"    {i.site()}" for i in edges[a][b])
    lines.append(
        "Break each circle at its weakest edge: move what both sides need into the lower layer (the domain, or a "
        "small module both import), or build it in app/bootstrap.py (the composition root) and pass it in. "
        "Importing inside a function only hides a circle."
    )
    return "\n".join(lines)


def test_no_import_circles_among_packages() -> None:
    """app.http, app.slack, app.delivery, app.observability, app.cli, app.bootstrap, app.settings, app.runtime,
    app.sandbox, incidents and each of its sub-packages (and any new package of app/)."""
    edges = graph(package_of, (i for i in imports(PRODUCT) if within(i.target, PRODUCT)))
    found = circles(edges)
    assert not found, describe(found, edges, "packages")


def test_no_import_circles_among_modules() -> None:
    """Inside a package too: a command module importing the CLI's entry point that imports it back is a circle."""
    edges = graph(lambda m: m, (i for i in imports(PRODUCT) if i.target in modules() and within(i.target, PRODUCT)))
    found = circles(edges)
    assert not found, describe(found, edges, "modules")


# --- registration is explicit ---------------------------------------------------------------------------------


def dynamic_imports(module: str) -> list[str]:
    """Calls of importlib.import_module / import_module / __import__, however importlib was imported."""
    path = modules()[module]
    sites = []
    for node in ast.walk(tree(path)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("import_module", "__import__"):
            sites.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {ast.unparse(node)}")
    return sites


def test_nothing_is_imported_by_a_name_in_a_string() -> None:
    sites = [site for m in modules() if within(m, PRODUCT) for site in dynamic_imports(m)]
    assert not sites, (
        "Listeners, handlers and services are registered explicitly, never found by module names in strings:\n  "
        + "\n  ".join(sites)
        + "\nImport the modules (or functions) and list them in one place (a tuple in the package that uses them)."
    )


# --- the checks check ---------------------------------------------------------------------------------------


def test_a_circle_is_found_with_its_path() -> None:
    site = Import("a", ROOT / "x.py", 1, "b", False, False)
    edges = {"a": {"b": [site]}, "b": {"c": [site]}, "c": {"a": [site], "d": [site]}, "d": {}}
    assert circles(edges) == [["a", "b", "c", "a"]]  # type: ignore[arg-type]
    assert circles({"a": {"b": [site]}, "b": {}}) == []  # type: ignore[dict-item]


def test_relative_lazy_and_typing_imports_are_all_found() -> None:
    source = """
from typing import TYPE_CHECKING
from . import common, helper_name
from ..ids import CardAction
import app.delivery.worker as worker
if TYPE_CHECKING:
    from app.bootstrap import Deps
def later():
    from app.sandbox.run import run
"""
    known = ["app.slack.listeners.common", "app.slack.ids", "app.delivery.worker", "app.bootstrap", "app.sandbox.run"]
    collector = _Collector("app.slack.listeners.actions", ROOT / "app/slack/listeners/actions.py", known)
    collector.visit(ast.parse(source))
    found = {(i.target, i.nested, i.typing_only) for i in collector.found}
    assert found == {
        ("typing", False, False),
        ("app.slack.listeners.common", False, False),
        ("app.slack.listeners", False, False),  # a name defined in the package's __init__
        ("app.slack.ids", False, False),
        ("app.delivery.worker", False, False),
        ("app.bootstrap", False, True),
        ("app.sandbox.run", True, False),
    }
    assert package_of("app.slack.listeners.actions") == "app.slack"
    assert package_of("app.bootstrap") == "app.bootstrap"
    assert package_of("incidents.service") == "incidents"
    assert package_of("incidents.owners.store") == "incidents.owners"
