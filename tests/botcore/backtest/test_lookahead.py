"""No built-in looks ahead; a strategy that does is caught and the column named."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from botcore.backtest.lookahead import check_lookahead
from botcore.indicators import sma
from botcore.strategy.builtins import BUILTINS
from botcore.strategy.builtins.sma_cross import SmaCross
from botcore.strategy.params import IntParam
from tests.conftest import load_slice


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return load_slice("binance_ETH-USDT_1h.csv.gz", "2023-01-01", "2023-07-01").frame


@pytest.mark.parametrize("cls", BUILTINS, ids=lambda c: c.name)
def test_builtin_strategies_do_not_look_ahead(candles: pd.DataFrame, cls: type) -> None:
    report = check_lookahead(cls(), candles, cuts=25)
    assert len(report.cuts) >= 20
    assert not report.biased, report.findings[:3]


class CenteredSma(SmaCross):
    """Leaks: a centred rolling mean uses the next bars, a classic research mistake."""

    name = "centered_sma"
    window = IntParam(5, low=3, high=20)

    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        candles = super().indicators(candles)
        candles["smooth"] = candles["close"].rolling(self.window, center=True).mean()
        return candles

    def entries(self, frame: pd.DataFrame) -> Any:
        return frame["close"] > frame["smooth"]


class NextClose(SmaCross):
    """Leaks only in its decisions: buys when the next close is higher."""

    name = "next_close"

    def entries(self, frame: pd.DataFrame) -> Any:
        return (frame["close"].shift(-1) > frame["close"]).to_numpy()


def test_a_centred_indicator_is_reported_with_its_column(candles: pd.DataFrame) -> None:
    report = check_lookahead(CenteredSma(), candles, cuts=10)
    assert report.biased
    assert "smooth" in report.columns
    assert "entries" in report.columns
    assert "sma_fast" not in report.columns


def test_a_decision_using_the_next_bar_is_reported(candles: pd.DataFrame) -> None:
    report = check_lookahead(NextClose(), candles, cuts=10)
    assert report.columns == ("entries",)
    finding = report.findings[0]
    assert finding.bar == finding.cut_at - 1  # the last bar before each cut is where it shows


def test_sma_is_causal_on_real_closes(candles: pd.DataFrame) -> None:
    full = sma(candles["close"], 20)
    part = sma(candles["close"].iloc[:500], 20)
    pd.testing.assert_series_equal(pd.Series(full[:500]), pd.Series(part))
