"""Fill timing, stops, fees, slippage and sizing, on real candles with scripted decisions.

`reference_trades` is a deliberately plain Python loop written from the README's fill assumptions;
the compiled kernel must agree with it exactly on hundreds of random decisions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botcore.backtest import BacktestSettings, MarketRules, run_backtest
from botcore.data.catalog import LoadedCandles
from botcore.errors import ParamError
from tests.botcore.backtest.scripted import scripted
from tests.conftest import load_slice

FEE, SLIP = 0.001, 0.0005


def reference_trades(
    frame: pd.DataFrame,
    entries: set[int],
    exits: set[int],
    sl: float = 0.0,
    tp: float = 0.0,
    trail: float = 0.0,
    cash: float = 10_000.0,
) -> list[tuple[int, int, float, float, str]]:
    """(entry bar, exit bar, entry price, exit price, reason) for one symbol, all-in sizing."""
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    out: list[tuple[int, int, float, float, str]] = []
    holding, want_in, want_out = False, False, False
    entry_bar, entry_px, stop, target, peak = -1, 0.0, 0.0, 0.0, 0.0
    for t in range(len(c)):
        if want_out and holding:
            out.append((entry_bar, t, entry_px, o[t] * (1 - SLIP), "exit_signal"))
            holding = False
        want_out = False
        if want_in and not holding:
            holding, entry_bar, entry_px = True, t, o[t] * (1 + SLIP)
            stop = entry_px * (1 - sl) if sl else 0.0
            target = entry_px * (1 + tp) if tp else 0.0
            peak = o[t]
        want_in = False
        if holding:
            level, reason = stop, "stop_loss"
            if trail and peak * (1 - trail) > level:
                level, reason = peak * (1 - trail), "trailing_stop"
            start = level if t == entry_bar else o[t]
            if level and lo[t] <= level:
                out.append((entry_bar, t, entry_px, min(start, level) * (1 - SLIP), reason))
                holding = False
            elif target and h[t] >= target:
                start = target if t == entry_bar else o[t]
                out.append((entry_bar, t, entry_px, max(start, target), "take_profit"))
                holding = False
            else:
                peak = max(peak, h[t])
        if holding and t in exits:
            want_out = True
        elif not holding and t in entries and t not in exits:
            want_in = True
    if holding:
        out.append((entry_bar, len(c) - 1, entry_px, c[-1] * (1 - SLIP), "end_of_data"))
    return out


def _run(candles: LoadedCandles, entries: list[int], exits: list[int], **kw: float):  # type: ignore[no-untyped-def]
    stop_keys = ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct")
    stops = {k: v for k, v in kw.items() if k in stop_keys}
    options = {"fee": FEE, "slippage": SLIP} | {k: v for k, v in kw.items() if k not in stops}
    settings = BacktestSettings(**options)  # type: ignore[arg-type]
    return run_backtest(scripted(entries, exits, **stops), [candles], settings)


@pytest.fixture(scope="module")
def eth() -> LoadedCandles:
    return load_slice("binance_ETH-USDT_1h.csv.gz", "2023-05-01", "2023-08-01")


def test_decision_at_close_fills_at_next_open_with_slippage_and_fee(eth: LoadedCandles) -> None:
    result = _run(eth, [10], [20])
    trade = result.trades.iloc[0]
    o = eth.frame["open"]
    assert (trade.entry_index, trade.exit_index) == (11, 21)
    assert trade.entry_price == pytest.approx(o[11] * (1 + SLIP), rel=1e-12)
    assert trade.exit_price == pytest.approx(o[21] * (1 - SLIP), rel=1e-12)
    entry_fee = trade.amount * trade.entry_price * FEE
    exit_fee = trade.amount * trade.exit_price * FEE
    assert trade.fee == pytest.approx(entry_fee + exit_fee, rel=1e-12)
    # all-in: cost plus fee spends the whole cash
    assert trade.amount * trade.entry_price + entry_fee == pytest.approx(10_000.0, rel=1e-12)
    assert trade.pnl == pytest.approx(
        trade.amount * (trade.exit_price - trade.entry_price) - entry_fee - exit_fee, rel=1e-12
    )
    assert trade.entry_time == eth.frame["timestamp"][11]
    assert result.metrics.final_equity == pytest.approx(10_000.0 + trade.pnl, rel=1e-12)


def test_fill_on_close_fills_at_the_signal_bar_close_and_warns(eth: LoadedCandles) -> None:
    result = _run(eth, [10], [20], fill="close")  # type: ignore[arg-type]
    trade = result.trades.iloc[0]
    c = eth.frame["close"]
    assert (trade.entry_index, trade.exit_index) == (10, 20)
    assert trade.entry_price == pytest.approx(c[10] * (1 + SLIP), rel=1e-12)
    assert trade.exit_price == pytest.approx(c[20] * (1 - SLIP), rel=1e-12)
    assert result.warnings and "optimistic" in result.warnings[0]


@pytest.mark.parametrize(
    "stops",
    [
        {"stop_loss_pct": 1.5},
        {"take_profit_pct": 2.0},
        {"stop_loss_pct": 1.0, "take_profit_pct": 1.0},
        {"trailing_stop_pct": 1.2},
        {"stop_loss_pct": 3.0, "take_profit_pct": 4.0, "trailing_stop_pct": 2.0},
    ],
)
def test_kernel_matches_plain_reference_on_random_decisions(
    eth: LoadedCandles, stops: dict[str, float]
) -> None:
    rng = np.random.default_rng(3)
    n = len(eth.frame)
    entries = sorted(set(rng.integers(0, n, 300).tolist()))
    exits = sorted(set(rng.integers(0, n, 150).tolist()))
    result = _run(eth, entries, exits, **stops)
    expected = reference_trades(
        eth.frame,
        set(entries),
        set(exits),
        stops.get("stop_loss_pct", 0) / 100,
        stops.get("take_profit_pct", 0) / 100,
        stops.get("trailing_stop_pct", 0) / 100,
    )
    got = result.trades
    assert len(got) == len(expected) > 50
    for row, (e_bar, x_bar, e_px, x_px, reason) in zip(got.itertuples(), expected, strict=True):
        assert (row.entry_index, row.exit_index, row.exit_reason) == (e_bar, x_bar, reason)
        assert row.entry_price == pytest.approx(e_px, rel=1e-12)
        assert row.exit_price == pytest.approx(x_px, rel=1e-12)
    # money is conserved: final equity is the cash plus every trade's P&L
    assert result.metrics.final_equity == pytest.approx(10_000 + got["pnl"].sum(), rel=1e-9)


def test_stop_comes_before_take_profit_when_one_bar_touches_both(eth: LoadedCandles) -> None:
    f = eth.frame
    entry = f["open"] * (1 + SLIP)
    reach = np.minimum((f["high"] - entry) / entry, (entry - f["low"]) / entry)
    bar = int(reach.iloc[30:].idxmax())  # the real bar that moved furthest both ways from its open
    move = float(reach[bar]) * 100 * 0.8  # stop and target both inside that bar's range
    result = _run(eth, [bar - 1], [], stop_loss_pct=move, take_profit_pct=move)
    trade = result.trades.iloc[0]
    assert trade.entry_index == bar
    assert f["low"][bar] <= trade.entry_price * (1 - move / 100)
    assert f["high"][bar] >= trade.entry_price * (1 + move / 100)
    assert trade.exit_reason == "stop_loss"
    assert trade.exit_index == bar


def test_a_gap_through_the_stop_fills_at_the_open_not_the_stop() -> None:
    # Kraken writes no candle for an interval without trades, so its 5m series has real gaps.
    candles = load_slice("kraken_BTC-USDT_5m.csv.gz", "2023-01-01", "2023-03-01")
    f = candles.frame
    o, lo = f["open"].to_numpy(), f["low"].to_numpy()
    gaps = np.flatnonzero(o[1:] < lo[:-1] * 0.997) + 1
    bar = int(next(g for g in gaps if g > 5))
    entry_open = o[bar - 1]
    # a stop between the gap's open and the previous bar's low: untouched before, gapped through
    stop_level = (o[bar] + lo[bar - 1]) / 2
    sl_pct = (1 - stop_level / (entry_open * (1 + SLIP))) * 100
    result = _run(candles, [bar - 2], [], stop_loss_pct=sl_pct)
    trade = result.trades.iloc[0]
    assert trade.exit_index == bar
    assert trade.exit_price == pytest.approx(o[bar] * (1 - SLIP), rel=1e-12)
    assert trade.exit_price < stop_level


def test_fixed_and_risk_based_sizing(eth: LoadedCandles) -> None:
    fixed = _run(eth, [10], [20], stake_amount=1_500.0).trades.iloc[0]
    assert fixed.amount * fixed.entry_price * (1 + FEE) == pytest.approx(1_500.0, rel=1e-12)
    risk = _run(eth, [10], [20], risk_pct=1.0, stop_loss_pct=2.0).trades.iloc[0]
    # 1 % of 10,000 at risk with a 2 % stop: a 5,000 position
    assert risk.amount * risk.entry_price * (1 + FEE) == pytest.approx(5_000.0, rel=1e-12)
    with pytest.raises(ParamError, match="stop-loss"):
        _run(eth, [10], [20], risk_pct=1.0)


def test_exchange_precision_floors_amounts_and_minimums_reject(eth: LoadedCandles) -> None:
    rules = {"ETH/USDT": MarketRules(amount_step=0.01, min_notional=10.0)}
    trade = _run(eth, [10], [20], rules=rules).trades.iloc[0]  # type: ignore[arg-type]
    assert round(trade.amount / 0.01, 9).is_integer()
    assert trade.amount * trade.entry_price * (1 + FEE) <= 10_000.0
    tiny = _run(eth, [10], [20], stake_amount=5.0, rules=rules)  # type: ignore[arg-type]
    assert len(tiny.trades) == 0
    assert tiny.metrics.rejected_entries == 1


def test_shared_wallet_respects_max_open_positions(eth: LoadedCandles) -> None:
    # BTC starts earlier, so the script's bar positions fall on different times per symbol
    btc = load_slice("binance_BTC-USDT_1h.csv.gz", "2023-04-20", "2023-08-01")
    rng = np.random.default_rng(11)
    entries = sorted(set(rng.integers(0, len(btc.frame), 200).tolist()))
    exits = sorted(set(rng.integers(0, len(btc.frame), 200).tolist()))
    strategy = scripted(entries, exits)
    one = run_backtest(strategy, [btc, eth], BacktestSettings(max_open_positions=1))
    t = one.trades
    assert set(t["symbol"]) == {"BTC/USDT", "ETH/USDT"}
    held = np.zeros(len(one.timestamps) + 1, dtype=int)
    for row in t.itertuples():
        held[row.entry_index : row.exit_index] += 1
    assert held.max() == 1
    assert one.metrics.rejected_entries > 0
    two = run_backtest(strategy, [btc, eth], BacktestSettings(max_open_positions=2))
    held2 = np.zeros(len(two.timestamps) + 1, dtype=int)
    for row in two.trades.itertuples():
        held2[row.entry_index : row.exit_index] += 1
    assert held2.max() == 2
    # each slot takes half the equity
    first = two.trades.iloc[0]
    assert first.amount * first.entry_price * (1 + 0.001) == pytest.approx(5_000.0, rel=1e-9)
    assert two.metrics.final_equity == pytest.approx(10_000 + two.trades["pnl"].sum(), rel=1e-9)


def test_decisions_before_the_window_only_warm_up(eth: LoadedCandles) -> None:
    ts = eth.frame["timestamp"]
    result = run_backtest(scripted([5, 50], [60]), [eth], BacktestSettings(), int(ts[40]))
    assert len(result.trades) == 1
    assert result.trades.iloc[0].entry_index == 50 - 40 + 1
    assert result.metrics.start.startswith(pd.Timestamp(ts[40], unit="ms").strftime("%Y-%m-%d"))


def test_invalid_settings_name_the_setting(eth: LoadedCandles) -> None:
    with pytest.raises(ParamError, match="fee"):
        _run(eth, [1], [2], fee=0.5)
    with pytest.raises(ParamError, match="only one"):
        _run(eth, [1], [2], stake_pct=50.0, stake_amount=100.0)
