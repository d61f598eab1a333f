"""The store's rows read straight from the SQLite file with the standard library.

The services' tests recompute every report from these rows, so a report is checked against the
database itself, not against the store's read API or the services' own helpers.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import zlib
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

DAY_MS = 86_400_000
OPEN_STATUSES = ("new", "open", "partially_filled")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rows(db: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(db)) as connection:
        connection.row_factory = sqlite3.Row
        return list(connection.execute(sql, params))


@dataclass(frozen=True)
class Trade:
    id: str
    symbol: str
    strategy: str
    amount: Decimal
    entry_ms: int
    exit_ms: int
    entry_price: Decimal
    exit_price: Decimal
    fee: Decimal
    pnl: Decimal
    pnl_pct: Decimal


def trades(db: Path) -> list[Trade]:
    """Every closed trade, by exit time then id."""
    return [
        Trade(
            r["id"],
            r["symbol"],
            r["strategy"],
            Decimal(r["amount"]),
            r["entry_ms"],
            r["exit_ms"],
            Decimal(r["entry_price"]),
            Decimal(r["exit_price"]),
            Decimal(r["fee"]),
            Decimal(r["pnl"]),
            Decimal(r["pnl_pct"]),
        )
        for r in rows(db, "SELECT * FROM trades ORDER BY exit_ms, id")
    ]


def equity(db: Path) -> list[tuple[int, Decimal]]:
    """(timestamp ms, equity) of every snapshot, by time."""
    return [
        (r["timestamp_ms"], Decimal(r["equity"]))
        for r in rows(db, "SELECT * FROM equity_snapshots ORDER BY timestamp_ms")
    ]


def clock(db: Path) -> int:
    """The engine's clock: the close time of the last bar it processed, from its run state."""
    return int(json.loads(state(db, "engine.run_state") or "{}")["clock_ms"])


def balances(db: Path, exchange: str = "paper") -> dict[str, Decimal]:
    found = rows(db, "SELECT asset, total FROM balances WHERE exchange = ?", exchange)
    return {r["asset"]: Decimal(r["total"]) for r in found}


@dataclass(frozen=True)
class Held:
    exchange: str
    symbol: str
    amount: Decimal
    entry_price: Decimal
    entry_ms: int
    entry_fee: Decimal
    strategy: str


def positions(db: Path) -> list[Held]:
    return [
        Held(
            r["exchange"],
            r["symbol"],
            Decimal(r["amount"]),
            Decimal(r["entry_price"]),
            r["entry_ms"],
            Decimal(r["entry_fee"]),
            r["strategy"],
        )
        for r in rows(db, "SELECT * FROM positions ORDER BY exchange, symbol")
    ]


def open_orders(db: Path) -> list[sqlite3.Row]:
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    return rows(db, f"SELECT * FROM orders WHERE status IN ({marks})", *OPEN_STATUSES)  # noqa: S608


def state(db: Path, key: str) -> str | None:
    found = rows(db, 'SELECT value FROM engine_state WHERE "key" = ?', key)
    return found[0]["value"] if found else None


def marks(db: Path) -> dict[str, Decimal]:
    """The run state's last close per symbol."""
    text = state(db, "engine.run_state")
    assert text is not None
    return {k: Decimal(v) for k, v in json.loads(text)["marks"].items()}


def cursor(db: Path, suffix: str) -> int:
    """The last bar processed by the stream whose key ends with `suffix` (e.g. `BTC/USDT|1h`)."""
    found = [
        r["timestamp_ms"] for r in rows(db, "SELECT * FROM cursors") if r["key"].endswith(suffix)
    ]
    assert len(found) == 1
    return int(found[0])


def last_before(curve: list[tuple[int, Decimal]], ms: int) -> Decimal:
    """The last equity before `ms`, or the first snapshot when none is earlier."""
    earlier = [e for t, e in curve if t < ms]
    return earlier[-1] if earlier else curve[0][1]


def last_at_or_before(curve: list[tuple[int, Decimal]], ms: int) -> Decimal:
    return [e for t, e in curve if t <= ms][-1]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the file's chunks and their CRCs."""
    assert data[:8] == PNG_SIGNATURE
    pos, kinds = 8, []
    header = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        kinds.append(kind)
        header = header or body
        pos += 12 + length
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    assert pos == len(data)
    width, height = struct.unpack(">II", header[:8])
    return width, height
