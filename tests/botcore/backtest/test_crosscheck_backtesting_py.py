"""The engine agrees trade for trade with backtesting.py, an established engine, on real candles.

With fees and slippage at zero both engines must produce the same entries and exits (bars and
prices), the same amounts and the same P&L for sma_cross.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from botcore.backtest import BacktestSettings, run_backtest
from botcore.data.catalog import LoadedCandles
from botcore.strategy.builtins import SmaCross
from tests.conftest import load_slice


def _reference_trades(candles: LoadedCandles, fast: int, slow: int) -> pd.DataFrame:
    from backtesting import Strategy as BtStrategy
    from backtesting.lib import FractionalBacktest

    def sma(values: np.ndarray, n: int) -> np.ndarray:
        return pd.Series(values).rolling(n).mean().to_numpy()

    class Cross(BtStrategy):  # type: ignore[misc]
        def init(self) -> None:
            self.f = self.I(sma, self.data.Close, fast)
            self.s = self.I(sma, self.data.Close, slow)

        def next(self) -> None:
            up = self.f[-1] > self.s[-1] and self.f[-2] <= self.s[-2]
            down = self.f[-1] < self.s[-1] and self.f[-2] >= self.s[-2]
            if self.position and down:
                self.position.close()
            elif not self.position and up and not down:
                self.buy(size=0.9999)

    frame = candles.frame
    data = pd.DataFrame(
        {
            "Open": frame["open"].to_numpy(),
            "High": frame["high"].to_numpy(),
            "Low": frame["low"].to_numpy(),
            "Close": frame["close"].to_numpy(),
            "Volume": frame["volume"].to_numpy(),
        },
        index=pd.to_datetime(frame["timestamp"], unit="ms", utc=True).dt.tz_localize(None),
    )
    bt = FractionalBacktest(
        data,
        Cross,
        cash=10_000,
        commission=0.0,
        trade_on_close=False,
        finalize_trades=True,
        fractional_unit=1e-8,
    )
    stats = bt.run()
    return stats["_trades"].sort_values("EntryBar").reset_index(drop=True)


@pytest.mark.parametrize(
    ("name", "start", "end", "fast", "slow"),
    [
        ("binance_BTC-USDT_1h.csv.gz", "2023-01-01", "2024-01-01", 10, 30),
        ("binance_ETH-USDT_15m.csv.gz", "2023-06-01", "2023-09-01", 20, 50),
    ],
)
def test_sma_cross_matches_backtesting_py_trade_for_trade(
    name: str, start: str, end: str, fast: int, slow: int
) -> None:
    candles = load_slice(name, start, end)
    ours = run_backtest(
        SmaCross(fast=fast, slow=slow),
        [candles],
        BacktestSettings(fee=0.0, slippage=0.0, stake_pct=99.99),
    ).trades
    ref = _reference_trades(candles, fast, slow)

    assert len(ours) > 20
    assert len(ours) == len(ref)
    # A trade still open at the end: backtesting.py's finalize_trades re-runs its broker on the
    # last bar and fills at that bar's open; we close at the last close (the last known price).
    if ours["exit_reason"].iloc[-1] == "end_of_data":
        assert ours["exit_price"].iloc[-1] == candles.frame["close"].iloc[-1]
        assert ref["ExitPrice"].iloc[-1] == candles.frame["open"].iloc[-1]
        ours, ref = ours.iloc[:-1], ref.iloc[:-1]
    np.testing.assert_array_equal(ours["entry_index"], ref["EntryBar"])
    np.testing.assert_array_equal(ours["exit_index"], ref["ExitBar"])
    np.testing.assert_allclose(ours["entry_price"], ref["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(ours["exit_price"], ref["ExitPrice"], rtol=1e-12)
    # backtesting.py buys whole satoshis; we do not round without a known amount step.
    np.testing.assert_allclose(ours["amount"], ref["Size"], rtol=1e-6)
    np.testing.assert_allclose(ours["pnl"], ref["PnL"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours["pnl_pct"], ref["ReturnPct"] * 100, rtol=1e-9, atol=1e-9)
