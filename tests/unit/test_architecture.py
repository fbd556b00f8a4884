"""The allowed imports between the parts of ``src/paperroute`` (docs/architecture.md has the
same table): a change that makes the web reach for the database, a feature import another,
or two parts import each other fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "paperroute"
DOC = SRC.parent / "docs" / "architecture.md"

# Pure modules every part may use: plain types, errors, identifiers, settings, the clock,
# the log line formats, the run-off-the-request helper, a served heap settled once started.
CORE = {"errors", "model", "ids", "config", "links", "clock", "logs", "soon", "heap"}
FEATURES = {"reading", "search", "community", "digest"}

# part -> the parts it may import (besides itself and CORE).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "store": set(),
    "sources": set(),
    "mail": set(),
    "site": {"store", "mail"},
    "papers": {"store"},
    "search": {"store"},
    "reading": {"store"},
    "community": {"store", "site", "mail", "sources", "papers", "reading"},
    "digest": {"store", "site", "mail", "reading", "search", "recommend"},
    "upkeep": {"store", "sources", "papers", "search"},
    "recommend": {"store", "site", "search", "reading", "sources"},
    "hub": {
        "store",
        "papers",
        "search",
        "reading",
        "community",
        "digest",
        "recommend",
        "site",
        "mail",
        "upkeep",
    },
    "ingest": {"hub", "papers", "sources"},
    "jobs": {"hub", "ingest", "upkeep", "search"},
    "web": {"hub", "ingest", "jobs", "site", "recommend", *FEATURES},
    "cli": {"hub", "ingest", "jobs", "web", "site", "recommend", *FEATURES},
    "api": {"hub"},  # paperroute/__init__.py: open_hub, Hub, the types, the errors
    "main": {"cli"},  # python -m paperroute
}
# The front doors (web, cli) never touch the database, the mail transport or the writer.
FRONT_DOORS = {"web", "cli"}
NEVER_FROM_FRONT_DOORS = {"store", "mail", "papers"}


def part_of(module: str) -> str:
    """``paperroute.web.pages`` -> ``web``; ``paperroute.errors`` -> ``core``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    head = parts[1]
    if head in CORE:
        return "core"
    if head == "__main__":
        return "main"
    return head


def module_name(path: Path) -> str:
    relative = path.relative_to(SRC).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from .. import ingest`: names may be modules of their own.
            modules = [f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")]
            if len(modules) < len(node.names):
                found.append((node.lineno, target))
            found.extend((node.lineno, module) for module in modules)
    return found


def _is_module(name: str) -> bool:
    path = SRC / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def violations() -> list[str]:
    found = []
    for path in sources():
        here = part_of(module_name(path))
        allowed = ALLOWED[here] | {here, "core"}
        for line, target in imports_of(path):
            where = f"{path.relative_to(SRC)}:{line}"
            if here in FRONT_DOORS and target.split(".")[0] == "sqlalchemy":
                found.append(f"{where}: {here} imports sqlalchemy")
            if not target.startswith("paperroute"):
                continue
            there = part_of(target)
            if there == here:
                continue
            if there not in allowed:
                found.append(f"{where}: {here} may not import {target} ({there})")
            elif here in FRONT_DOORS and there in NEVER_FROM_FRONT_DOORS:
                found.append(f"{where}: {here} may not import {target}")
            elif any(piece.startswith("_") and piece != "__init__" for piece in target.split(".")):
                found.append(f"{where}: {target} is internal to {there}")
    return found


def test_every_import_is_allowed_by_the_table() -> None:
    assert violations() == []


def test_no_cycle_between_parts() -> None:
    graph: dict[str, set[str]] = {}
    for path in sources():
        here = part_of(module_name(path))
        for _line, target in imports_of(path):
            if target.startswith("paperroute") and (there := part_of(target)) != here:
                graph.setdefault(here, set()).add(there)
    cycles = []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join([*trail, nxt]))
                elif nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))
    assert cycles == []


def test_the_table_is_acyclic() -> None:
    """The rules themselves allow no cycle (so the check above can never be argued with)."""
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, " -> ".join([*trail, node])
        if node in done:
            return
        for nxt in ALLOWED[node]:
            visit(nxt, (*trail, node))
        done.add(node)

    for node in ALLOWED:
        visit(node, ())


def test_every_part_is_in_the_table() -> None:
    parts = {part_of(module_name(p)) for p in sources()}
    assert parts <= set(ALLOWED), parts - set(ALLOWED)


def test_docs_architecture_has_the_same_table() -> None:
    """docs/architecture.md lists each part with what it may import."""
    text = DOC.read_text()
    rows = dict(re.findall(r"^\| `([a-z]+)/?` \| ([^|]*) \|", text, re.M))
    for part, allowed in ALLOWED.items():
        if part in {"core", "api", "main"}:
            continue
        assert part in rows, f"docs/architecture.md has no row for {part}"
        documented = set(re.findall(r"`([a-z]+)/?`", rows[part])) - {"core"}
        assert documented == allowed, (part, documented, allowed)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("from ..store.schema import papers", "web may not import paperroute.store.schema"),
        ("import sqlalchemy", "web imports sqlalchemy"),
        ("from ..digest._render import x", "paperroute.digest._render is internal to digest"),
    ],
)
def test_the_check_catches_a_forbidden_import(
    code: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checker itself: a web module with a forbidden import is reported."""
    fake = PACKAGE / "web" / "_architecture_probe.py"
    monkeypatch.setattr(f"{__name__}.sources", lambda: [fake], raising=True)
    original = Path.read_text
    monkeypatch.setattr(
        Path, "read_text", lambda self, *a, **k: code if self == fake else original(self, *a, **k)
    )
    assert any(expected in v for v in violations()), violations()
