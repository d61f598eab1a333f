"""Transactions: a unit of work commits whole or not at all, and misuse is refused.

The killed-process versions of these guarantees are in test_crash.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from botcore.persistence import DuplicateFillError, Store, StoreError, UnitOfWork
from tests.botcore.persistence.builders import (
    BTC,
    Write,
    bars,
    commit,
    filled,
    order,
    snapshot,
    trade,
    write_a_whole_bar,
)


def test_an_exception_mid_transaction_leaves_nothing_written(store: Store) -> None:
    write_a_whole_bar(store, 1)
    before = snapshot(store)
    assert all(before.values())  # every table has a row, so "unchanged" means something

    class Boom(Exception):
        pass

    def half_a_bar(uow: UnitOfWork) -> None:
        done, fill = filled(order(2), 3)
        uow.save_order(done)
        uow.save_fill(fill)
        uow.set_balance("paper", "USDT", Decimal("1"))
        uow.delete_position("paper", BTC)
        uow.save_trade(trade(2, 3))
        uow.save_equity(bars()[3][0], Decimal("1"))
        uow.set_cursor("replay|BTC/USDT|1h", bars()[3][0])
        uow.audit("engine", "fill", fill.id, bars()[3][0])
        uow.set_risk_setting("stake_pct", "99")
        raise Boom

    with pytest.raises(Boom):
        commit(store, half_a_bar)
    assert snapshot(store) == before


def test_reads_see_only_committed_writes(store: Store) -> None:
    with store.transaction() as uow:
        uow.set_balance("paper", "USDT", Decimal("10000"))
        assert store.balances() == {}
    assert store.balances() == {"USDT": Decimal("10000")}


def test_a_unit_of_work_ends_with_its_block_and_transactions_do_not_nest(store: Store) -> None:
    with store.transaction() as uow:
        uow.set_cursor("k", 1)
        with pytest.raises(StoreError, match="do not nest"), store.transaction():
            pass
        uow.set_cursor("k", 2)
    with pytest.raises(StoreError, match="has ended"):
        uow.set_cursor("k", 3)
    assert store.cursor("k") == 2
    with store.transaction() as again:  # the nesting guard was released
        again.set_cursor("k", 4)
    assert store.cursor("k") == 4


@pytest.mark.parametrize("bad", [0.1, float("nan"), Decimal("NaN"), Decimal("Infinity")])
def test_inexact_or_non_finite_money_is_refused_and_nothing_is_kept(
    store: Store, bad: object
) -> None:
    writes: list[Write] = [
        lambda uow: uow.set_balance("paper", "USDT", Decimal("10000")),
        lambda uow: uow.set_balance("paper", "BTC", bad),  # type: ignore[arg-type]
    ]
    with pytest.raises(StoreError, match="money must be"):
        commit(store, *writes)
    assert store.balances() == {}


def test_a_fill_whose_order_was_never_saved_is_refused_at_commit(store: Store) -> None:
    _done, orphan = filled(order(3), 4)
    with pytest.raises(StoreError, match="nothing was saved"):
        commit(
            store,
            lambda uow: uow.set_cursor("replay|BTC/USDT|1h", bars()[4][0]),
            lambda uow: uow.save_fill(orphan),
        )
    assert store.fills() == []
    assert store.cursor("replay|BTC/USDT|1h") is None


def test_a_refused_duplicate_fill_can_be_caught_and_the_rest_still_commits(store: Store) -> None:
    done, fill = filled(order(1), 2)
    commit(store, lambda uow: uow.save_order(done), lambda uow: uow.save_fill(fill))
    with store.transaction() as uow:
        try:  # an exchange reporting a fill again: the engine may skip it and carry on
            uow.save_fill(fill)
        except DuplicateFillError:
            uow.audit("engine", "duplicate fill ignored", fill.id, fill.timestamp_ms)
    assert store.fills() == [fill]
    assert store.audit_log()[0].action == "duplicate fill ignored"
