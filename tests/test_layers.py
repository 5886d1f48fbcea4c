"""The layers stay apart: models/ imports no Qt at all; services/ no widgets or GUI."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minicrm_desktop"
GUI_MODULES = ("PySide6.QtWidgets", "PySide6.QtGui")


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # from PySide6 import QtWidgets
                yield node.lineno, f"{node.module}.{alias.name}"


def offending(folder: str, banned: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == b or module.startswith(b + ".") for b in banned):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize(("folder", "banned"), [
    ("models", ("PySide6", "shiboken6")),
    ("services", GUI_MODULES),
])
def test_layer_imports(folder: str, banned: tuple[str, ...]) -> None:
    assert (PACKAGE / folder).is_dir()
    assert offending(folder, banned) == []


def test_the_check_catches_violations(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from PySide6 import QtWidgets\nimport PySide6.QtGui as g\n")
    assert [m for _, m in imported_modules(sample)] == [
        "PySide6", "PySide6.QtWidgets", "PySide6.QtGui"]
