"""Exchange precision and minimums per market, remembered beside the candle cache.

`tradechat data download` saves what ccxt reports for the market (amount step, minimum amount,
minimum notional) into `<cache_dir>/<exchange>_markets.json`; backtests of that market then
respect them. Markets never downloaded have no known rules and trade fractional amounts freely.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["MarketRules", "load_market_rules", "rules_from_ccxt", "save_market_rules"]

# ccxt's precision modes: precision given as decimal places, or as the step itself.
_DECIMAL_PLACES, _TICK_SIZE = 2, 4


@dataclass(frozen=True)
class MarketRules:
    """Exchange precision and minimums for one market (0 = none known)."""

    amount_step: float = 0.0
    min_amount: float = 0.0
    min_notional: float = 0.0


def rules_from_ccxt(market: dict[str, Any], precision_mode: int) -> MarketRules:
    """The rules in a ccxt unified market structure."""
    precision = (market.get("precision") or {}).get("amount")
    step = 0.0
    if precision is not None:
        step = 10.0 ** -float(precision) if precision_mode == _DECIMAL_PLACES else float(precision)
    limits = market.get("limits") or {}
    return MarketRules(
        amount_step=step,
        min_amount=float((limits.get("amount") or {}).get("min") or 0.0),
        min_notional=float((limits.get("cost") or {}).get("min") or 0.0),
    )


def _rules_file(folder: Path, exchange: str) -> Path:
    return folder / f"{exchange}_markets.json"


def save_market_rules(folder: Path, exchange: str, symbol: str, rules: MarketRules) -> None:
    """Record one market's rules, keeping the other markets of the file (written atomically)."""
    path = _rules_file(folder, exchange)
    known = json.loads(path.read_text()) if path.is_file() else {}
    known[symbol] = asdict(rules)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(known, indent=1, sort_keys=True))
    tmp.replace(path)


def load_market_rules(
    folders: Iterable[Path], exchange: str, symbols: Iterable[str]
) -> dict[str, MarketRules]:
    """Rules known for `symbols` on `exchange`, from the first folder that has each."""
    found: dict[str, MarketRules] = {}
    wanted = set(symbols)
    for folder in folders:
        path = _rules_file(folder, exchange)
        if not path.is_file():
            continue
        known = json.loads(path.read_text())
        for symbol in wanted - set(found):
            if symbol in known:
                found[symbol] = MarketRules(**known[symbol])
    return found
