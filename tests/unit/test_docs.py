"""Machines check the docs: every command and every setting is documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import typer.main

from paperroute.cli import app
from paperroute.config import Config

ROOT = Path(__file__).parents[2]


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    click_group = typer.main.get_command(group)
    names: list[str] = []

    def walk(command: object, path: str) -> None:
        sub = getattr(command, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(child, f"{path} {name}".strip())
        else:
            names.append(path)

    walk(click_group, prefix)
    return names


def test_every_cli_command_has_a_section_in_docs_cli() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text()
    headings = re.findall(r"^## `paperroute ([^`]+)`", doc, re.MULTILINE)
    documented = {" ".join(h.split()[: len(h.split())]) for h in headings}
    for command in _commands(app):
        assert any(h == command or h.startswith(command + " ") for h in documented), command


def test_every_setting_is_in_docs_configuration() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for field in dataclasses.fields(Config):
        if isinstance(field.default, bool):
            shown = f"`{str(field.default).lower()}`"
        elif field.default == "":
            shown = "(none)"
        else:
            shown = f"`{field.default}`"
        assert f"| `{field.name}` | {shown} |" in doc, field.name


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_every_operations_path_is_in_docs_deploy() -> None:
    from paperroute.web.ops import OPS_PATHS

    doc = (ROOT / "docs" / "deploy.md").read_text()
    for path in OPS_PATHS:
        assert f"| `{path}` |" in doc, path
