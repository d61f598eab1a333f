"""`tradechat run` refusing live trading politely until everything it needs is in place."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from botcore.security.keystore import PASSPHRASE_ENV, Keystore
from tradechat import cli

runner = CliRunner()

LIVE = """
[database]
url = "sqlite:///{db}"

[market]
source = "{source}"

[[market.symbols]]
symbol = "BTC/USDT"
timeframe = "1h"
strategy = "ema_cross"

[trading]
mode = "live"
allow_live = {allow}

[[exchanges]]
name = "binance"
key_name = "binance-main"
"""


def _invoke(tmp_path: Path, *args: str, source: str = "exchange", allow: str = "true") -> str:
    db = tmp_path / "bot.db"
    config = tmp_path / "live.toml"
    config.write_text(LIVE.format(db=db, source=source, allow=allow))
    result = runner.invoke(
        cli.app,
        ["--config", str(config), "run", "--log-file", str(tmp_path / "log.jsonl"), *args],
        env={PASSPHRASE_ENV: "run cli passphrase", "COLUMNS": "200"},
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not db.exists()  # refused before anything was written
    return " ".join(result.output.split())


def test_live_mode_without_a_keystore_names_the_command_that_makes_one(tmp_path: Path) -> None:
    out = _invoke(tmp_path, "--keystore", str(tmp_path / "none.json"))
    assert "no keystore at" in out and "tradechat keys add" in out


def test_live_mode_on_replayed_candles_is_refused(tmp_path: Path) -> None:
    keystore = tmp_path / "keystore.json"
    Keystore.create(keystore, "run cli passphrase").add("binance-main", "binance", "k", "s")
    out = _invoke(tmp_path, "--keystore", str(keystore), source="replay")
    assert 'live trading needs live candles: set [market] source = "exchange"' in out


def test_live_mode_without_allow_live_is_refused(tmp_path: Path) -> None:
    keystore = tmp_path / "keystore.json"
    Keystore.create(keystore, "run cli passphrase").add("binance-main", "binance", "k", "s")
    out = _invoke(tmp_path, "--keystore", str(keystore), allow="false")
    assert '[trading] mode is "live" but allow_live is false' in out
