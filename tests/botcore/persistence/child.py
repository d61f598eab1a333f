"""A second process for the crash and concurrency tests: `python -m tests.botcore.persistence.child
MODE URL [ARGS]`. It reports progress as lines on stdout; the test decides when to kill it.

Modes:
    inside URL      write a whole bar in a transaction, say "inside", then wait to be killed
                    (the transaction is still open: its SQL has been sent, not committed)
    committed URL   the same, but commit first, then say "committed" and wait to be killed
    writer URL NAME GO N
                    say "ready", wait for the file GO, open the store (migrating if first) and
                    commit N transactions under the name NAME, then say "done"
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

from botcore.persistence import Store
from tests.botcore.persistence.builders import bars, filled, order, position


def say(word: str) -> None:
    print(word, flush=True)


def write_bar_and_wait(url: str, commit: bool) -> None:
    store = Store.open(url)
    done, fill = filled(order(20), 21)
    ts = bars()[21][0]
    with store.transaction() as uow:
        uow.save_order(done)
        uow.save_fill(fill)
        uow.set_balance("paper", "USDT", Decimal("6934.27446153"))
        uow.set_balance("paper", "BTC", fill.amount)
        uow.delete_position("paper", "BTC/USDT")
        uow.save_position(position(21, symbol="ETH/USDT"))
        uow.save_equity(ts, Decimal("9996.53"))
        uow.set_cursor("replay|BTC/USDT|1h", ts)
        uow.audit("engine", "fill", fill.id, ts)
        if not commit:
            say("inside")
            time.sleep(120)
    say("committed")
    time.sleep(120)


def writer(url: str, name: str, go: Path, count: int) -> None:
    say("ready")
    while not go.exists():
        time.sleep(0.005)
    store = Store.open(url, busy_timeout_s=20)
    for n in range(count):
        with store.transaction() as uow:
            uow.audit(name, "tick", str(n), bars()[n][0])
            uow.set_balance(name, "USDT", Decimal(n))
            uow.save_order(order(n, id=f"{name}-{n}"))
    store.close()
    say("done")


def main(argv: list[str]) -> None:
    mode, url, *rest = argv
    if mode in ("inside", "committed"):
        write_bar_and_wait(url, commit=mode == "committed")
    elif mode == "writer":
        name, go, count = rest
        writer(url, name, Path(go), int(count))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
