"""Strategy parameters, the registry, user strategy files and fencing of their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from botcore.errors import ParamError, StrategyError, StrategyNotFoundError
from botcore.strategy import available_strategies, get_strategy
from botcore.strategy.builtins import BUILTINS, SmaCross
from tests.conftest import load_slice

USER_STRATEGY = '''
from botcore.indicators import crossed_above, crossed_below, ema
from botcore.strategy import IntParam, Strategy


class MyEma(Strategy):
    """Long on a close above the EMA, flat below it."""

    name = "my_ema"
    period = IntParam(50, low=5, high=200)

    def indicators(self, candles):
        candles["ema"] = ema(candles["close"], self.period)
        return candles

    def entries(self, frame):
        return crossed_above(frame["close"], frame["ema"])

    def exits(self, frame):
        return crossed_below(frame["close"], frame["ema"])
'''


def test_builtins_are_documented_and_declare_searchable_ranges() -> None:
    names = {cls.name for cls in BUILTINS}
    assert names == {"sma_cross", "ema_cross", "rsi_reversion", "bollinger_breakout", "macd_trend"}
    for cls in BUILTINS:
        assert cls.__doc__ and len(cls.__doc__) > 40
        assert cls.parameters
        for param in cls.parameters.values():
            assert param.low is not None and param.high is not None
            assert param.low <= param.default <= param.high


def test_params_convert_text_and_enforce_ranges() -> None:
    s = SmaCross(fast="12", slow=40)
    assert (s.fast, s.slow) == (12, 40)
    assert s.params == {"fast": 12, "slow": 40}
    assert SmaCross.fast.default == 10  # the class attribute is the declaration
    with pytest.raises(ParamError, match="at least 2"):
        SmaCross(fast=1)
    with pytest.raises(ParamError, match="takes a int"):
        SmaCross(fast="ten")
    with pytest.raises(ParamError, match="fast < slow"):
        SmaCross(fast=50, slow=20)
    with pytest.raises(ParamError, match="no parameter speed"):
        SmaCross(speed=3)


def test_unknown_strategy_gets_did_you_mean() -> None:
    with pytest.raises(StrategyNotFoundError, match="did you mean sma_cross"):
        get_strategy("sma_crss")


def test_user_strategy_file_runs_by_name(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(USER_STRATEGY)
    assert "my_ema" in available_strategies(tmp_path)
    strategy = get_strategy("my_ema", tmp_path)(period=20)
    candles = load_slice("binance_BTC-USDT_1h.csv.gz", "2023-01-01", "2023-03-01").frame
    signals = strategy.run_signals(candles)
    assert signals.entries.sum() > 5
    assert signals.entries.dtype == np.bool_


def test_a_broken_user_strategy_is_reported_not_crashing(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        USER_STRATEGY.replace('frame["ema"])\n\n    def exits', 'frame["nope"])\n\n    def exits')
    )
    strategy = get_strategy("my_ema", tmp_path)()
    candles = load_slice("binance_BTC-USDT_1h.csv.gz", "2023-01-01", "2023-02-01").frame
    with pytest.raises(StrategyError, match=r"my_ema.*entries"):
        strategy.run_signals(candles)
    (tmp_path / "bad.py").write_text("import nonexistent_module_xyz\n")
    with pytest.raises(StrategyError, match=r"bad\.py"):
        available_strategies(tmp_path)


def test_signals_do_not_mutate_the_callers_candles() -> None:
    candles = load_slice("binance_BTC-USDT_1h.csv.gz", "2023-01-01", "2023-02-01").frame
    before = list(candles.columns)
    SmaCross().run_signals(candles)
    assert list(candles.columns) == before
