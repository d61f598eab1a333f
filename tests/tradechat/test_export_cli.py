"""`tradechat export` as a user meets it: trades, orders and equity from a real SQLite file.

The command runs under a small app with the same root callback contract as `tradechat.cli`
(settings and console on the context), so it is tested independently of its registration.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from botcore.config import load_settings
from botcore.persistence import Store
from tests.botcore.persistence.builders import bars, filled, order, trade
from tradechat.commands import export
from tradechat.context import AppContext

runner = CliRunner()
app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _main(ctx: typer.Context) -> None:
    ctx.obj = AppContext(load_settings(None), Console(highlight=False, width=200))


app.command("export")(export.export)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with two closed trades, three orders and an equity curve of real prices."""
    path = tmp_path / "user_data" / "tradechat.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        with store.transaction() as uow:
            for n in (3, 12):
                done, fill = filled(order(n), n + 1)
                uow.save_order(done)
                uow.save_fill(fill)
            uow.save_order(order(30, price=Decimal("0.000012345678901234")))
            uow.save_trade(trade(12, 20, "take_profit"))
            uow.save_trade(trade(3, 9, "stop_loss"))
            for ts, _open, close in bars()[:5]:
                uow.save_equity(ts, Decimal("10000") + close - bars()[0][2])
    finally:
        store.close()
    return path


def run(db: Path | None, *args: str) -> tuple[int, str]:
    env = {"TRADECHAT_CONFIG": ""}
    if db is not None:
        env["TRADECHAT_DATABASE__URL"] = f"sqlite:///{db}"
    result = runner.invoke(app, ["export", *args], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_trades_as_csv_on_stdout_have_every_column_a_user_needs(db: Path) -> None:
    code, text = run(db, "trades")
    assert code == 0, text
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = [trade(3, 9, "stop_loss"), trade(12, 20, "take_profit")]  # by exit time
    assert [r["id"] for r in rows] == [t.id for t in expected]
    for row, t in zip(rows, expected, strict=True):
        assert row["symbol"] == "BTC/USDT" and row["side"] == "long"
        assert Decimal(row["amount"]) == t.amount
        assert (row["entry_ms"], row["exit_ms"]) == (str(t.entry_ms), str(t.exit_ms))
        assert (Decimal(row["entry_price"]), Decimal(row["exit_price"])) == (
            t.entry_price,
            t.exit_price,
        )
        assert row["fee"] == str(t.fee) and row["pnl"] == str(t.pnl)  # exact text
        assert row["exit_reason"] == t.exit_reason
    assert rows[0]["entry_time"] == "2024-03-01T03:00:00Z"
    assert rows[0]["exit_time"] == "2024-03-01T09:00:00Z"


def test_orders_as_json_to_a_file_keep_money_exact(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "orders.json"
    code, text = run(db, "orders", "--format", "json", "--out", str(out))
    assert code == 0, text
    assert f"wrote 3 rows of orders to {out} (json)" in text
    records = json.loads(out.read_text())
    assert [r["id"] for r in records] == ["tc-order-003", "tc-order-012", "tc-order-030"]
    assert records[0]["status"] == "filled"
    assert records[0]["average_price"] == str(bars()[4][1])
    assert records[2]["price"] == "0.000012345678901234"
    assert records[2]["average_price"] is None
    assert records[2]["created_time"] == "2024-03-02T06:00:00Z"


def test_equity_as_csv_and_json_agree(db: Path) -> None:
    code, as_csv = run(db, "equity", "-f", "csv")
    assert code == 0, as_csv
    code, as_json = run(db, "equity", "-f", "json")
    assert code == 0, as_json
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert rows == json.loads(as_json, parse_int=str)
    assert [r["time"] for r in rows][:2] == ["2024-03-01T00:00:00Z", "2024-03-01T01:00:00Z"]
    assert rows[0]["equity"] == "10000.00"


def test_the_database_can_come_from_a_config_file(db: Path, tmp_path: Path) -> None:
    config = tmp_path / "tradechat.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n')
    result = runner.invoke(
        app, ["export", "trades", "--config", str(config)], env={"TRADECHAT_CONFIG": ""}
    )
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 3  # header and two trades


def test_a_missing_database_is_a_polite_error_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "tradechat.db"
    code, text = run(missing, "trades")
    assert code == 2
    assert f"no database at {missing}: nothing has been recorded yet" in " ".join(text.split())
    assert "[database] url" in text
    assert not missing.parent.exists()


def test_an_unknown_kind_or_format_is_refused(db: Path) -> None:
    code, _text = run(db, "positions")
    assert code == 2
    code, _text = run(db, "trades", "--format", "xlsx")
    assert code == 2


def test_an_unreachable_database_server_is_a_polite_error_without_the_password() -> None:
    url = "postgresql+psycopg://tradechat:s3cret@127.0.0.1:9/tradechat"  # port 9: nobody there
    result = runner.invoke(
        app, ["export", "trades"], env={"TRADECHAT_CONFIG": "", "TRADECHAT_DATABASE__URL": url}
    )
    assert result.exit_code == 2
    assert "cannot read the database postgresql+psycopg://tradechat:***@127.0.0.1:9" in " ".join(
        result.output.split()
    )
    assert "s3cret" not in result.output and "Traceback" not in result.output
