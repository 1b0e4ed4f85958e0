"""The layering of STYLE.md, kept by a test: domain <- services <- (auth, http) <- ui."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "kapjourney"

# package -> imports it must never make
FORBIDDEN = {
    "domain": (
        "reflex",
        "authlib",
        "pywebpush",
        "fastapi",
        "starlette",
        "kapjourney.services",
        "kapjourney.auth",
        "kapjourney.http",
        "kapjourney.ui",
        "kapjourney.notifications",
    ),
    "services": (
        "reflex",
        "authlib",
        "pywebpush",
        "fastapi",
        "starlette",
        "kapjourney.http",
        "kapjourney.ui",
        "kapjourney.notifications",
    ),
    "auth": ("reflex", "pywebpush", "kapjourney.http", "kapjourney.ui"),
    "http": ("reflex", "pywebpush", "kapjourney.ui"),
    "notifications": ("reflex", "authlib", "kapjourney.http", "kapjourney.ui"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_point_inward(package):
    bad = []
    for path in (PKG / package).rglob("*.py"):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                bad.append(f"{path.relative_to(PKG)} imports {name}")
    assert bad == []


def test_only_ui_and_the_entry_point_import_reflex():
    outside = [
        p
        for p in PKG.rglob("*.py")
        if any(n == "reflex" or n.startswith("reflex.") for n in _imports(p))
        and "ui" not in p.relative_to(PKG).parts
        and p.name != "kapjourney.py"
    ]
    assert outside == []


def test_package_init_stays_empty():
    assert (PKG / "__init__.py").read_text().strip() == ""


def test_no_unsafe_reflex_rendering_or_print():
    offenders = []
    for path in PKG.rglob("*.py"):
        text = path.read_text()
        for needle in ("rx.html(", "use_raw=True", "rx.Model", "dangerouslySetInnerHTML"):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
                and path.name != "cli.py"
            ):
                offenders.append(f"{path.name}: print()")
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "call_script"
                and node.args
                and not isinstance(node.args[0], ast.Constant)
            ):
                offenders.append(f"{path.name}:{node.lineno}: call_script with built code")
    assert offenders == []
