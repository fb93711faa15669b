"""The shape of bot/: what each package may import (every import, even local ones), and short functions."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent.parent / "bot"
MAX_FUNCTION_LINES = 80
# The composition layer: it builds everything, so it may import everything.
ROOT_MODULES = {"app", "cli", "runner", "demo", "__main__", "__init__"}
# Package -> the packages it may import. Lower layers first; nothing may import upwards.
ALLOWED: dict[str, set[str]] = {
    "texts": set(),
    "common": set(),
    "config": {"common", "files"},
    "files": {"common"},
    "storage": {"common"},
    "faq": {"common", "files"},
    "core": {"common", "storage", "texts", "config"},
    "features": {"core", "faq", "files", "storage", "common", "texts", "config"},
    "channels": {"core", "storage", "common", "texts", "config"},
    # The staff console: a front end over the features' queries and actions, like the CLI.
    "webconsole": {"features", "core", "faq", "files", "storage", "common", "texts", "config"},
}


def _package(module: str) -> str:
    """Return the layer of a module of bot/ ("bot.core.turn" -> "core", "bot.app" -> "root")."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    return "root" if name in ROOT_MODULES else name


def _imports(path: Path) -> set[str]:
    """Return the modules of bot/ a file imports, wherever the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("bot.")}
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            if node.module == "bot":
                found |= {f"bot.{alias.name}" for alias in node.names}
            elif node.module.startswith("bot."):
                found.add(node.module)
    return found


def _modules() -> dict[str, Path]:
    modules = {}
    for path in BOT.rglob("*.py"):
        relative = path.relative_to(BOT.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue  # Alembic's scripts: run by Alembic, outside the application's layers
        modules[".".join(relative.parts)] = path
    return modules


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in _modules().items():
        source = _package(module)
        targets = {_package(imported) for imported in _imports(path)} - {source}
        graph.setdefault(source, set()).update(targets)
    return graph


def test_every_package_imports_only_the_layers_below() -> None:
    wrong = []
    for module, path in sorted(_modules().items()):
        source = _package(module)
        if source == "root":
            continue
        assert source in ALLOWED, f"{module}: package {source!r} has no place in the layers (add it)"
        for imported in sorted(_imports(path)):
            target = _package(imported)
            if target != source and target not in ALLOWED[source]:
                wrong.append(f"{module} imports {imported} ({source} may import {sorted(ALLOWED[source])})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle_between_packages() -> None:
    graph = _package_graph()
    done: set[str] = set()

    def visit(package: str, path: list[str]) -> None:
        if package in path:
            raise AssertionError("import circle: " + " -> ".join([*path[path.index(package) :], package]))
        if package in done:
            return
        for target in sorted(graph.get(package, ())):
            visit(target, [*path, package])
        done.add(package)

    for package in sorted(graph):
        visit(package, [])


def test_the_check_sees_local_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from bot import texts\n"
        "if TYPE_CHECKING:\n    from bot.features.faq import FaqService\n"
        "def f():\n    import bot.channels.web\n",
        encoding="utf-8",
    )
    assert _imports(source) == {"bot.texts", "bot.features.faq", "bot.channels.web"}


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in sorted(BOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(BOT.parent)}: {node.name} ({length} lines)")
    assert not long, "\n".join(long)
