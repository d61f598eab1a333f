"""Imports flow one way: adapters -> router -> commands -> services -> domain, and tui -> services.

The check parses every module's imports (no execution) and fails on an arrow pointing backwards.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package prefix -> modules it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "botcore": ("chat", "tui", "tradechat", "telegram", "discord", "openai", "textual"),
    "chat": ("tui", "tradechat"),
    "chat.commands": ("telegram", "discord", "chat.adapters"),
    "tui": ("tradechat", "chat.adapters", "telegram", "discord"),
}


def imported_modules(source: str) -> set[str]:
    """Absolute module names a source file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(module: str, source: str) -> list[str]:
    """Forbidden imports of `module` (dotted name) given its source."""
    bad = []
    for prefix, banned in FORBIDDEN.items():
        if module == prefix or module.startswith(prefix + "."):
            for name in imported_modules(source):
                if any(name == b or name.startswith(b + ".") for b in banned):
                    bad.append(f"{module} imports {name}")
    return bad


def test_the_checker_catches_a_backwards_import() -> None:
    assert violations("botcore.backtest.engine", "from chat.router import Router\n")
    assert violations("chat.commands.trade", "import telegram\n")
    assert not violations("chat.adapters.telegram", "import telegram\n")


@pytest.mark.parametrize("package", ["botcore", "chat", "tui"])
def test_no_import_points_backwards(package: str) -> None:
    bad: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        bad.extend(violations(module, path.read_text()))
    assert not bad


def test_the_command_line_starts_without_heavy_libraries() -> None:
    # each of these costs 0.1-1 s to import; a command loads the ones it uses when it runs
    import subprocess
    import sys

    heavy = ("sqlalchemy", "sqlmodel", "alembic", "ccxt", "optuna", "matplotlib", "numba", "talib")
    probe = f"import sys, tradechat.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
