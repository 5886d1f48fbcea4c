"""The layers stay apart: models/ imports no Qt at all; services/ no widgets or GUI."""

from __future__ import annotations

import ast
import importlib
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


def reaches(layer: str, package_dir: Path = PACKAGE, into: str | None = None
            ) -> list[tuple[str, str, str]]:
    """(file:line, its feature, the other feature) for each import of another feature's
    insides, and for each import of any feature from a shared folder. With `into`
    ("services" from "views"): each import of a service feature's insides by a view of
    another feature (a view uses its own service feature's modules freely)."""
    into = into or layer
    root, target_root = package_dir / layer, package_dir / into
    found: list[tuple[str, str, str]] = []
    for path in sorted(root.rglob("*.py")):
        own = path.relative_to(root).parts[0]
        for line, module in absolute_imports(path, package_dir):
            parts = module.split(".")
            if parts[:2] != ["minicrm_desktop", into] or len(parts) < 3 or parts[2] == own:
                continue
            target = parts[2]
            inside = len(parts) >= 4 and (
                (target_root / target / f"{parts[3]}.py").exists()
                or (target_root / target / parts[3]).is_dir())
            from_shared = into == layer and own in SHARED[layer]
            bad = (from_shared or inside) and target not in SHARED[into]
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
    assert reaches("services") == []


def test_views_use_other_service_features_only_through_their_faces() -> None:
    assert reaches("views", into="services") == []


def feature_faces(layer: str) -> list[str]:
    return sorted(f"minicrm_desktop.{layer}.{folder.name}"
                  for folder in (PACKAGE / layer).iterdir()
                  if (folder / "__init__.py").is_file() and folder.name not in SHARED[layer])


@pytest.mark.parametrize("face", feature_faces("services") + feature_faces("views"))
def test_every_feature_names_its_face_and_each_name_is_there(face: str) -> None:
    """A feature's __init__ lists its face in __all__, and every listed name resolves (a
    lazy face's table cannot point at a module that lacks the name)."""
    module = importlib.import_module(face)
    names = getattr(module, "__all__", None)
    assert names, f"{face} names no public face (__all__)"
    missing = [name for name in names if not hasattr(module, name)]
    assert missing == []


def test_a_lazy_face_refuses_names_it_does_not_list() -> None:
    from minicrm_desktop.services.core.faces import lazy_face

    face = lazy_face("minicrm_desktop.services.core", {"paths": ("data_dir",)})
    assert callable(face("data_dir"))
    with pytest.raises(AttributeError, match="log_dir"):
        face("log_dir")  # in the module, but not in the face


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


def test_the_view_to_service_check_catches_a_reach(tmp_path: Path) -> None:
    """A view reaching into another feature's service module is reported; its own service
    feature's modules, another's face, and shared service folders are not."""
    package = tmp_path / "minicrm_desktop"
    for layer, feature in (("views", "alpha"), ("services", "alpha"), ("services", "beta"),
                           ("services", "core")):
        (package / layer / feature).mkdir(parents=True)
        (package / layer / feature / "__init__.py").write_text("")
        (package / layer / feature / "inner.py").write_text("X = 1\n")
    (package / "services" / "beta" / "sub").mkdir()
    (package / "views" / "alpha" / "ok.py").write_text(
        "from minicrm_desktop.services.alpha.inner import X\n"
        "from minicrm_desktop.services.beta import X\n"
        "from minicrm_desktop.services.core.inner import X\n")
    (package / "views" / "alpha" / "bad.py").write_text(
        "from minicrm_desktop.services.beta.inner import X\n"
        "from minicrm_desktop.services.beta.sub.deep import X\n")
    found = reaches("views", package, into="services")
    assert [(where.split("/")[-1], own, target) for where, own, target in found] == [
        ("bad.py:1", "alpha", "beta"), ("bad.py:2", "alpha", "beta")]
