"""Finding strategies by name: the built-ins plus `*.py` files in the user's strategy folder.

A user file may define any number of `Strategy` subclasses with a `name`; a user strategy with a
built-in's name takes precedence, so a copy can be edited in place.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path

from botcore.errors import StrategyError, StrategyNotFoundError
from botcore.strategy.base import Strategy
from botcore.strategy.builtins import BUILTINS

__all__ = ["available_strategies", "get_strategy", "load_strategy_folder"]


def load_strategy_folder(folder: Path) -> dict[str, type[Strategy]]:
    """Import every `*.py` in `folder` and collect the Strategy subclasses it defines."""
    found: dict[str, type[Strategy]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.py")):
        module_name = f"tradechat_user_strategies.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise StrategyError(f"could not load strategy file {path}: {exc!r}") from exc
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Strategy)
                and value is not Strategy
                and value.name
                and value.__module__ == module_name
            ):
                found[value.name] = value
    return found


def available_strategies(folder: Path | None = None) -> dict[str, type[Strategy]]:
    """Name -> class for the built-ins and, when given, the strategies in `folder`."""
    strategies: dict[str, type[Strategy]] = {cls.name: cls for cls in BUILTINS}
    if folder is not None:
        strategies.update(load_strategy_folder(folder))
    return strategies


def get_strategy(name: str, folder: Path | None = None) -> type[Strategy]:
    """The strategy class called `name`; unknown names get a "did you mean"."""
    strategies = available_strategies(folder)
    if name in strategies:
        return strategies[name]
    close = difflib.get_close_matches(name, list(strategies), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise StrategyNotFoundError(
        f"no strategy named '{name}'{hint} (available: {', '.join(sorted(strategies))})"
    )
