"""The console reads a snapshot, not the live database (issue #16 finding 2, "the console's load must never slow the
people voiding orders"): made once, shared by the queries of a role until it is too old or lacks a column, holding
only what that role may read, and deleted once superseded and unread."""
import os
from datetime import date

import duckdb
import pytest

from lib.analytics import console_snapshot
from lib.analytics.console import run_readonly
from lib.db import Database, apply_migrations, rows_as_dicts
from lib.services.auth import user_from_row

FRESH = 0             # data_max_age_s: every query makes its own snapshot
KEPT = 10 ** 9        # one snapshot serves every query of the test
VOIDED = "SELECT count(*) AS n FROM orders WHERE status = 'voided'"


@pytest.fixture
def desk(tmp_path):
    from lib.seed import seed

    db = Database(str(tmp_path / "snap.duckdb"))
    apply_migrations(db)
    seed(db, orders=80, seed=11, today=date(2025, 9, 7))
    yield db
    db.close()


def user(db, username):
    with db.read() as cur:
        return user_from_row(rows_as_dicts(cur, "SELECT * FROM users WHERE username = ?", [username])[0])


def snapshots(db) -> dict:
    """Each readable set's current snapshot."""
    return {key: chain.current for key, chain in console_snapshot._chains.get(db, {}).items()}


def test_queries_share_one_snapshot_until_it_is_too_old(desk):
    analyst = user(desk, "analyst")
    first = run_readonly(desk, analyst, VOIDED, data_max_age_s=KEPT)
    (snap,) = snapshots(desk).values()
    with desk.transaction() as cur:                            # a change after the snapshot was made
        cur.execute("UPDATE orders SET status = 'voided' WHERE id = (SELECT min(id) FROM orders"
                    " WHERE status = 'completed')")

    kept = run_readonly(desk, analyst, VOIDED, data_max_age_s=KEPT)
    assert kept.frame["n"][0] == first.frame["n"][0]          # the void came after the snapshot
    assert kept.data_as_of == first.data_as_of and list(snapshots(desk).values()) == [snap]

    fresh = run_readonly(desk, analyst, VOIDED, data_max_age_s=FRESH)
    assert fresh.frame["n"][0] == first.frame["n"][0] + 1
    assert fresh.data_as_of >= first.data_as_of
    assert not snap.path.exists()                             # superseded, and nobody reads it any more


def test_a_column_the_snapshot_lacks_makes_one_holding_both(desk):
    analyst = user(desk, "analyst")
    run_readonly(desk, analyst, "SELECT count(DISTINCT status) FROM orders", data_max_age_s=KEPT)
    (first,) = snapshots(desk).values()
    assert first.columns == {"orders": ["status"]}            # what queries read, never the whole database
    result = run_readonly(desk, analyst, "SELECT warehouse, count(*) AS n FROM orders GROUP BY 1",
                          data_max_age_s=KEPT)
    assert result.frame["n"].sum() == 80
    (second,) = snapshots(desk).values()
    assert second.columns == {"orders": ["status", "warehouse"]} and not first.path.exists()
    run_readonly(desk, analyst, "SELECT count(*) FROM orders WHERE status = 'voided'", data_max_age_s=KEPT)
    assert list(snapshots(desk).values()) == [second]          # held already: no copy


def test_an_old_snapshot_is_followed_by_one_with_what_was_read_from_it(desk):
    analyst = user(desk, "analyst")
    run_readonly(desk, analyst, "SELECT count(*) FROM orders o JOIN order_lines l ON l.order_id = o.id",
                 data_max_age_s=KEPT)
    run_readonly(desk, analyst, "SELECT count(*) FROM voids", data_max_age_s=FRESH)
    (snap,) = snapshots(desk).values()
    assert snap.columns == {"order_lines": ["order_id"], "orders": ["id"], "voids": []}


def test_a_snapshot_holds_only_what_its_readers_may_read(desk):
    analyst, admin = user(desk, "analyst"), user(desk, "admin")
    run_readonly(desk, analyst, "SELECT count(*) FROM refunds", data_max_age_s=KEPT)
    run_readonly(desk, admin, "SELECT count(payment_ref), count(*) FROM refunds", data_max_age_s=KEPT)
    run_readonly(desk, admin, "SELECT count(action) FROM audit_log", data_max_age_s=KEPT)
    held = {}
    for snap in snapshots(desk).values():
        with duckdb.connect(str(snap.path), read_only=True) as con:
            held[snap.path] = {(t, c) for t, c in con.execute(
                "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal").fetchall()}
    assert sorted(held.values(), key=len) == [
        {("refunds", console_snapshot.ROWS_ONLY)},                               # the analyst's: rows alone
        {("refunds", "payment_ref"), ("audit_log", "action")}]                  # the admin's


def test_a_superseded_snapshot_stays_while_a_query_reads_it(desk):
    analyst = user(desk, "analyst")
    key = console_snapshot.key_of({"orders": ["status"]})
    with console_snapshot.reading(desk, key, {"orders": ["status"]}) as old:
        with console_snapshot.reading(desk, key, {"orders": ["status"]}, max_age_s=FRESH) as new:
            assert new.path != old.path and old.path.exists() and new.path.exists()
        assert old.path.exists() and new.path.exists()            # the current one stays
    assert not old.path.exists() and new.path.exists()
    assert run_readonly(desk, analyst, "SELECT 1 AS n").frame["n"][0] == 1


def test_the_snapshot_is_not_reachable_by_name_from_a_query(desk):
    analyst = user(desk, "analyst")
    run_readonly(desk, analyst, "SELECT count(*) FROM orders", data_max_age_s=KEPT)
    for sql in ("SELECT count(*) FROM snapshot.orders", "SELECT * FROM snapshot.main.refunds"):
        with pytest.raises(Exception) as info:
            run_readonly(desk, analyst, sql, data_max_age_s=KEPT)
        assert "snapshot" in str(info.value.message("en")).lower() or info.value.key.startswith("console.")


def test_a_snapshot_deleted_from_outside_is_made_again(desk):
    # A temporary-files cleaner may remove it while the app runs.
    analyst = user(desk, "analyst")
    run_readonly(desk, analyst, "SELECT count(*) FROM orders", data_max_age_s=KEPT)
    (snap,) = snapshots(desk).values()
    snap.path.unlink()
    assert run_readonly(desk, analyst, "SELECT count(*) AS n FROM orders", data_max_age_s=KEPT).frame["n"][0] == 80
    (again,) = snapshots(desk).values()
    assert again.path != snap.path and again.path.exists()


def test_snapshots_are_made_on_one_thread_of_the_lowest_priority(desk):
    run_readonly(desk, user(desk, "analyst"), "SELECT count(*) FROM orders", data_max_age_s=FRESH)
    (maker,) = console_snapshot._executor._threads
    assert os.getpriority(os.PRIO_PROCESS, maker.native_id) == 19
