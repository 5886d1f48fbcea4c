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


# --- Features keep to their folders -------------------------------------------------------
# views/ and services/ are arranged by feature; a folder's __init__.py names its public face.
# Another folder imports only that face (`from minicrm_desktop.views.segments import
# LiveCount`), never a module inside it, so a feature's insides can change freely. Shared
# folders are libraries every feature may use module by module; they import no feature.
SHARED = {
    "views": {"common"},
    "services": {"core", "bulkload", "access"},  # plumbing, bulk loading, who-may-do-what
}
# Reaches between service features that predate the folders (services/<from>, <into>):
# each is a known debt to route through the target's face; the list may only shrink.
KNOWN_SERVICE_REACHES = {
    ("access", "auth"), ("ai", "campaigns"), ("core", "importing"), ("core", "customers"),
    ("customers", "importing"), ("importing", "customers"), ("segments", "importing"),
}


def absolute_imports(path: Path, package_dir: Path = PACKAGE) -> Iterator[tuple[int, str]]:
    """Every module a file names, relative imports resolved, `from p import mod` included."""
    rel = path.relative_to(package_dir.parent).with_suffix("").parts
    package = list(rel[:-1])
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def reaches(layer: str, package_dir: Path = PACKAGE) -> list[tuple[str, str, str]]:
    """(file:line, its feature, the other feature) for each import of another feature's
    insides, and for each import of any feature from a shared folder."""
    root = package_dir / layer
    found: list[tuple[str, str, str]] = []
    for path in sorted(root.rglob("*.py")):
        own = path.relative_to(root).parts[0]
        for line, module in absolute_imports(path, package_dir):
            parts = module.split(".")
            if parts[:2] != ["minicrm_desktop", layer] or len(parts) < 3 or parts[2] == own:
                continue
            target = parts[2]
            inside = len(parts) >= 4 and (root / target / f"{parts[3]}.py").exists()
            bad = (own in SHARED[layer] or inside) and target not in SHARED[layer]
            entry = (f"{path.relative_to(package_dir.parent)}:{line}", own, target)
            if bad and entry not in found:
                found.append(entry)
    return found


@pytest.mark.parametrize("layer", ["views", "services"])
def test_every_module_lives_in_a_feature_folder(layer: str) -> None:
    loose = [p.name for p in (PACKAGE / layer).glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    for folder in (PACKAGE / layer).iterdir():
        if folder.is_dir() and folder.name != "__pycache__":
            assert (folder / "__init__.py").is_file(), folder


def test_view_features_use_each_other_only_through_their_faces() -> None:
    assert reaches("views") == []


def test_views_common_imports_no_feature() -> None:
    common = PACKAGE / "views" / "common"
    for path in sorted(common.rglob("*.py")):
        for line, module in absolute_imports(path):
            parts = module.split(".")
            if parts[:2] == ["minicrm_desktop", "views"] and len(parts) >= 3:
                assert parts[2] == "common", f"{path.name}:{line} imports {module}"


def test_service_features_use_each_other_only_through_their_faces() -> None:
    unexpected = [r for r in reaches("services")
                  if (r[1], r[2]) not in KNOWN_SERVICE_REACHES]
    assert unexpected == []
    still_there = {(r[1], r[2]) for r in reaches("services")}
    assert still_there >= KNOWN_SERVICE_REACHES, "a debt was paid: drop it from the list"


def test_the_face_check_catches_a_reach(tmp_path: Path) -> None:
    """A view feature importing another's module is reported; through its face it is not."""
    package = tmp_path / "minicrm_desktop"
    for feature in ("alpha", "beta", "common"):
        (package / "views" / feature).mkdir(parents=True)
        (package / "views" / feature / "__init__.py").write_text("")
    (package / "views" / "beta" / "inner.py").write_text("X = 1\n")
    (package / "views" / "alpha" / "ok.py").write_text(
        "from minicrm_desktop.views.beta import X\n")
    (package / "views" / "alpha" / "bad.py").write_text(
        "from minicrm_desktop.views.beta.inner import X\n")
    (package / "views" / "common" / "worse.py").write_text(
        "from minicrm_desktop.views import alpha\nfrom ...views.beta import X\n")
    found = reaches("views", package)
    assert [(where.split("/")[-1], own, target) for where, own, target in found] == [
        ("bad.py:1", "alpha", "beta"), ("worse.py:1", "common", "alpha"),
        ("worse.py:2", "common", "beta")]
