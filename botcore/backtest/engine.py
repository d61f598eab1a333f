"""Running a strategy over candles: signals, alignment of several symbols, the kernel, results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.backtest.metrics import compute_metrics
from botcore.backtest.result import BacktestResult
from botcore.data.catalog import LoadedCandles
from botcore.data.market_rules import MarketRules
from botcore.errors import ParamError
from botcore.strategy.base import Signals, Stops, Strategy
from botcore.timeframes import timeframe_ms

__all__ = ["BacktestSettings", "MarketRules", "run_backtest"]


@dataclass(frozen=True)
class BacktestSettings:
    """How a backtest trades. Sizing: at most one of `stake_pct`, `stake_amount`, `risk_pct`;
    by default each position takes 100 / max_open_positions percent of equity.

    Stops given here override the strategy's own (`Stops`); percentages are of the entry price.
    """

    cash: float = 10_000.0
    fee: float = 0.001
    slippage: float = 0.0005
    stake_pct: float | None = None
    stake_amount: float | None = None
    risk_pct: float | None = None
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None
    fill: Literal["next_open", "close"] = "next_open"
    max_open_positions: int = 1
    rules: dict[str, MarketRules] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ParamError naming the first setting that makes no sense."""
        checks: list[tuple[bool, str]] = [
            (self.cash > 0, "cash must be positive"),
            (0 <= self.fee < 0.1, "fee is a fraction (0.001 = 0.1 %) and must be in [0, 0.1)"),
            (0 <= self.slippage < 0.1, "slippage is a fraction and must be in [0, 0.1)"),
            (self.max_open_positions >= 1, "max_open_positions must be at least 1"),
            (self.fill in ("next_open", "close"), "fill must be next_open or close"),
            (
                sum(x is not None for x in (self.stake_pct, self.stake_amount, self.risk_pct)) <= 1,
                "give only one of stake_pct, stake_amount, risk_pct",
            ),
            (self.stake_pct is None or 0 < self.stake_pct <= 100, "stake_pct must be in (0, 100]"),
            (self.stake_amount is None or self.stake_amount > 0, "stake_amount must be positive"),
            (self.risk_pct is None or 0 < self.risk_pct <= 100, "risk_pct must be in (0, 100]"),
        ]
        for name in ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct"):
            value = getattr(self, name)
            checks.append((value is None or 0 < value < 100, f"{name} must be in (0, 100)"))
        for ok, message in checks:
            if not ok:
                raise ParamError(message)

    def public_dict(self) -> dict[str, object]:
        """Settings as plain values for reports and JSON."""
        data = asdict(self)
        data.pop("rules")
        return data


def _stops(strategy: Strategy, settings: BacktestSettings) -> Stops:
    own = strategy.stops()
    return Stops(
        settings.stop_loss_pct if settings.stop_loss_pct is not None else own.stop_loss_pct,
        settings.take_profit_pct if settings.take_profit_pct is not None else own.take_profit_pct,
        settings.trailing_stop_pct
        if settings.trailing_stop_pct is not None
        else own.trailing_stop_pct,
    )


def _size(settings: BacktestSettings, stops: Stops) -> tuple[int, float]:
    from botcore.backtest.kernel import SIZE_FIXED, SIZE_PCT, SIZE_RISK

    if settings.stake_amount is not None:
        return SIZE_FIXED, settings.stake_amount
    if settings.risk_pct is not None:
        if not stops.stop_loss_pct:
            raise ParamError("risk-based sizing (risk_pct) needs a stop-loss to measure risk to")
        return SIZE_RISK, settings.risk_pct
    if settings.stake_pct is not None:
        return SIZE_PCT, settings.stake_pct
    return SIZE_PCT, 100.0 / settings.max_open_positions


def _align(
    markets: Sequence[LoadedCandles], signals: Sequence[Signals]
) -> tuple[npt.NDArray[np.int64], dict[str, np.ndarray]]:
    """(bars, symbols) arrays on the union of the symbols' timestamps; missing bars are invalid."""
    stamps = [m.frame["timestamp"].to_numpy(dtype=np.int64) for m in markets]
    if len(markets) == 1:
        # one symbol: its own bars, every one valid (the common case, worth no copies)
        frame, sig = markets[0].frame, signals[0]
        single = {
            c: frame[c].to_numpy(dtype=np.float64)[:, None]
            for c in ("open", "high", "low", "close")
        }
        single["valid"] = np.ones((len(frame), 1), dtype=np.bool_)
        single["entries"] = sig.entries[:, None]
        single["exits"] = sig.exits[:, None]
        return stamps[0], single
    union = np.unique(np.concatenate(stamps))
    shape = (len(union), len(markets))
    arrays = {k: np.full(shape, np.nan) for k in ("open", "high", "low", "close")}
    arrays["valid"] = np.zeros(shape, dtype=np.bool_)
    arrays["entries"] = np.zeros(shape, dtype=np.bool_)
    arrays["exits"] = np.zeros(shape, dtype=np.bool_)
    for j, (market, sig, ts) in enumerate(zip(markets, signals, stamps, strict=True)):
        rows = np.searchsorted(union, ts)
        for col in ("open", "high", "low", "close"):
            arrays[col][rows, j] = market.frame[col].to_numpy(dtype=np.float64)
        arrays["valid"][rows, j] = True
        arrays["entries"][rows, j] = sig.entries
        arrays["exits"][rows, j] = sig.exits
    return union, arrays


def run_backtest(
    strategy: Strategy,
    markets: Sequence[LoadedCandles],
    settings: BacktestSettings | None = None,
    trade_from_ms: int | None = None,
) -> BacktestResult:
    """Backtest `strategy` over one or more markets of one timeframe on a shared wallet.

    Bars before `trade_from_ms` only warm the indicators up; the report covers the rest.

    Raises:
        ParamError: settings or markets that cannot be backtested.
    """
    from botcore.backtest.kernel import CFG_FIELDS, EXIT_REASONS, simulate

    settings = settings or BacktestSettings()
    settings.validate()
    if not markets:
        raise ParamError("a backtest needs at least one market")
    timeframes = {m.key.timeframe for m in markets}
    if len(timeframes) > 1:
        raise ParamError(
            f"all markets must share one timeframe, got {', '.join(sorted(timeframes))}"
        )
    symbols = tuple(m.key.symbol for m in markets)
    if len(set(symbols)) != len(symbols):
        raise ParamError("a symbol appears twice in the backtest")
    timeframe = markets[0].key.timeframe
    stops = _stops(strategy, settings)
    size_mode, size_value = _size(settings, stops)

    signals = [strategy.run_signals(m.frame) for m in markets]
    union, a = _align(markets, signals)
    trade_from = int(np.searchsorted(union, trade_from_ms)) if trade_from_ms is not None else 0
    if trade_from >= len(union):
        raise ParamError("the backtest window holds no candles after the warm-up")
    cfg_values = {
        "fee_rate": settings.fee,
        "slippage": settings.slippage,
        "size_mode": size_mode,
        "size_value": size_value,
        "stop_loss": (stops.stop_loss_pct or 0.0) / 100.0,
        "take_profit": (stops.take_profit_pct or 0.0) / 100.0,
        "trailing": (stops.trailing_stop_pct or 0.0) / 100.0,
        "max_open": settings.max_open_positions,
    }
    cfg = np.array([cfg_values[name] for name in CFG_FIELDS], dtype=np.float64)
    rules = [settings.rules.get(s, MarketRules()) for s in symbols]
    raw, equity, rejected = simulate(
        a["open"],
        a["high"],
        a["low"],
        a["close"],
        a["valid"],
        a["entries"],
        a["exits"],
        trade_from,
        float(settings.cash),
        cfg,
        settings.fill == "close",
        np.array([r.amount_step for r in rules]),
        np.array([r.min_amount for r in rules]),
        np.array([r.min_notional for r in rules]),
    )
    tf_ms = timeframe_ms(timeframe)
    trades = _trades_frame(raw, union, symbols, EXIT_REASONS, tf_ms, settings.fill == "close")
    trades["entry_index"] -= trade_from
    trades["exit_index"] -= trade_from
    window = union[trade_from:]
    equity = equity[trade_from:]
    held = np.zeros(len(window), dtype=np.int64)
    np.add.at(held, trades["entry_index"].to_numpy(), 1)
    ends = trades["exit_index"].to_numpy() + 1
    np.add.at(held, ends[ends < len(window)], -1)
    exposure = float((np.cumsum(held) > 0).mean() * 100.0)
    buy_hold = [
        _buy_hold_pct(a["close"][trade_from:, j], a["valid"][trade_from:, j])
        for j in range(len(symbols))
    ]
    metrics = compute_metrics(
        window,
        equity,
        trades,
        float(settings.cash),
        tf_ms,
        float(np.mean(buy_hold)) if buy_hold else None,
        exposure,
        int(rejected.sum()),
    )
    frames = {
        m.key.symbol: _window_frame(s.frame, int(window[0]))
        for m, s in zip(markets, signals, strict=True)
    }
    warnings: tuple[str, ...] = ()
    if settings.fill == "close":
        warnings = (
            "fills at the signal bar's close: optimistic, as a live bot can only act after "
            "the close",
        )
    return BacktestResult(
        strategy=strategy.name,
        params=dict(strategy.params),
        exchange=markets[0].key.exchange,
        symbols=symbols,
        timeframe=timeframe,
        settings=settings.public_dict()
        | {
            "stop_loss_pct": stops.stop_loss_pct,
            "take_profit_pct": stops.take_profit_pct,
            "trailing_stop_pct": stops.trailing_stop_pct,
            "size_mode": size_mode,
            "size_value": size_value,
        },
        timestamps=window,
        equity=equity,
        trades=trades,
        metrics=metrics,
        frames=frames,
        quality={m.key.symbol: m.quality for m in markets},
        warnings=warnings,
    )


def _window_frame(frame: pd.DataFrame, first_ms: int) -> pd.DataFrame:
    """The rows from `first_ms` on; the warm-up bars are not part of the report."""
    first = int(np.searchsorted(frame["timestamp"].to_numpy(), first_ms))
    return frame if first == 0 else frame.iloc[first:].reset_index(drop=True)


def _buy_hold_pct(close: np.ndarray, valid: np.ndarray) -> float:
    prices = close[valid]
    return float((prices[-1] / prices[0] - 1.0) * 100.0) if len(prices) > 1 else 0.0


def _trades_frame(
    raw: np.ndarray,
    stamps: npt.NDArray[np.int64],
    symbols: tuple[str, ...],
    reasons: tuple[str, ...],
    tf_ms: int,
    fill_on_close: bool,
) -> pd.DataFrame:
    sym = raw[:, 0].astype(np.int64)
    entry_i, exit_i = raw[:, 1].astype(np.int64), raw[:, 2].astype(np.int64)
    reason = raw[:, 8].astype(np.int64)
    entry_price, exit_price, amount = raw[:, 3], raw[:, 4], raw[:, 5]
    fee = raw[:, 6] + raw[:, 7]
    pnl = amount * (exit_price - entry_price) - fee
    # A fill at the open is stamped with the bar's open time, a close fill with the bar's end.
    close_shift = tf_ms if fill_on_close else 0
    exit_shift = np.where(reason == 0, close_shift, 0)
    exit_shift = np.where(reason == 4, tf_ms, exit_shift)
    frame = pd.DataFrame(
        {
            "symbol": np.array(symbols, dtype=object)[sym]
            if len(raw)
            else np.array([], dtype=object),
            "side": "long",
            "entry_time": stamps[entry_i] + close_shift,
            "exit_time": stamps[exit_i] + exit_shift,
            "entry_price": entry_price,
            "exit_price": exit_price,
            "amount": amount,
            "fee": fee,
            "pnl": pnl,
            "pnl_pct": pnl / (amount * entry_price + raw[:, 6]) * 100.0,
            "exit_reason": np.array(reasons, dtype=object)[reason]
            if len(raw)
            else np.array([], dtype=object),
            "entry_index": entry_i,
            "exit_index": exit_i,
        }
    )
    return frame.sort_values(["entry_time", "symbol"], kind="stable").reset_index(drop=True)
