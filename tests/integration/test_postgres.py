"""The shared-server mode on a real PostgreSQL server (issue #14): two app processes are two handles (two connection
pools) on one database; the analytics copy; moving an embedded database up; the console never reaching PostgreSQL.
Races inside one handle are proven by the both_backends modules (test_void_concurrency, test_void_decide_many,
test_hammer, test_void_crash)."""
import threading

import psycopg
import pytest

from lib.analytics.console import run_readonly
from lib.db import apply_migrations, connect, data_as_of, migration_files, scalar
from lib.errors import ConcurrentChange, InvalidInput, RuleViolation
from lib.queries.check import run_checks
from lib.replica import copy_of
from lib.services import voids
from lib.services.reasons import update_reason
from lib.services.settings import update_rules
from tests.integration.cli_helpers import cli
from tests.integration.void_helpers import make_order, refunds_of, voids_of


@pytest.fixture
def backend() -> str:
    return "postgresql"




def _race(*calls):
    """Run the calls at once (a barrier releases them together); each one's result or the exception it raised."""
    barrier, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            out[i] = call()
        except Exception as exc:   # noqa: BLE001 - the outcome under test
            out[i] = exc
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_two_replicas_voiding_one_order_void_it_once_and_the_other_is_told(shop, replica):
    for _ in range(5):
        number = make_order(shop, paid=True)
        results = _race(lambda: voids.void_order(shop.db, shop.users["ops"], number, "customer_cancelled"),
                        lambda: voids.void_order(replica, shop.users["ops_lead"], number, "out_of_stock"))
        won = [r for r in results if isinstance(r, dict)]
        told = [r for r in results if isinstance(r, (ConcurrentChange, RuleViolation))]
        assert len(won) == 1 and len(told) == 1, results
        assert [v["status"] for v in voids_of(shop.db, number)] == ["applied"]
        assert len(refunds_of(shop.db, number)) == 1
    assert run_checks(shop.db)["ok"]


def test_a_double_submit_through_two_replicas_voids_once_with_one_refund(shop, replica):
    number = make_order(shop, paid=True)
    results = _race(*[lambda db=db: voids.void_order(db, shop.users["ops"], number, "customer_cancelled",
                                                      submission_key="form-1") for db in (shop.db, replica)])
    assert all(isinstance(r, dict) for r in results), results
    assert results[0]["void_id"] == results[1]["void_id"]
    assert len(voids_of(shop.db, number)) == 1 and len(refunds_of(shop.db, number)) == 1
    assert run_checks(shop.db)["ok"]


def test_rules_and_reasons_changed_on_one_replica_hold_at_once_on_the_other(shop, replica):
    """Each process keeps the rules and reasons it read (PgCursor.memo); a change anywhere moves the server's
    counter on, so the next void on any replica acts on the new values."""
    ops = shop.users["ops"]
    voids.void_order(replica, ops, make_order(shop), "customer_cancelled")   # the replica now keeps both
    update_rules(shop.db, shop.users["admin"], approval_threshold="0.01")
    asked = voids.void_order(replica, ops, make_order(shop), "customer_cancelled")
    assert asked["outcome"] == "pending_approval"
    update_reason(shop.db, shop.users["admin"], "void", "customer_cancelled", active=False)
    with pytest.raises(InvalidInput):
        voids.void_order(replica, ops, make_order(shop), "customer_cancelled")
    assert scalar_of(replica, "SELECT version FROM memo_version") >= 2


def scalar_of(db, sql):
    with db.read() as cur:
        return scalar(cur, sql)


def test_a_failing_write_that_travels_with_the_commit_rolls_the_whole_transaction_back(shop):
    """A write sent with the COMMIT (PgCursor.send) that fails fails its transaction: nothing of it stays."""
    before = scalar_of(shop.db, "SELECT count(*) FROM audit_log")
    with pytest.raises(psycopg.errors.NotNullViolation):
        with shop.db.transaction() as cur:
            cur.execute("INSERT INTO settings (key, value, updated_at) VALUES ('probe', '1', now())")
            cur.send("INSERT INTO audit_log (created_at, action) VALUES (now(), NULL)")
    assert scalar_of(shop.db, "SELECT count(*) FROM settings WHERE key = 'probe'") == 0
    assert scalar_of(shop.db, "SELECT count(*) FROM audit_log") == before
    with shop.db.transaction() as cur:   # the connection went back to the pool usable
        assert scalar(cur, "SELECT count(*) FROM settings WHERE key = 'probe'") == 0


def test_a_change_on_one_replica_reaches_the_others_analytics_copy(shop, replica):
    copy = copy_of(replica)
    copy.fresh()
    before = _applied_in_copy(replica)
    number = make_order(shop, paid=True)
    voids.void_order(shop.db, shop.users["ops"], number, "customer_cancelled")   # on the first replica
    copy.refresh()   # what the second replica does at least once a second (MAX_AGE_S)
    assert _applied_in_copy(replica) == before + 1
    assert copy.last_rows > 0 and data_as_of(replica) is not None


def test_a_transaction_that_commits_after_a_refresh_it_overlapped_is_still_copied(shop, replica):
    """A watermark on time or on a sequence would skip this row: it was written before the refresh, committed after."""
    copy = copy_of(replica)
    copy.fresh()
    with shop.db.transaction() as cur:
        cur.execute("INSERT INTO customers (code, name, city) VALUES ('LATE-1', 'late', 'Shanghai')")
        copy.refresh()   # runs while the insert is not yet committed: it cannot see it
        with copy.copy.read() as dst:
            assert not scalar(dst, "SELECT count(*) FROM customers WHERE code = 'LATE-1'")
    copy.refresh()
    with copy.copy.read() as dst:
        assert scalar(dst, "SELECT count(*) FROM customers WHERE code = 'LATE-1'") == 1


def test_the_copy_holds_no_secrets_and_the_console_reads_only_the_copy(shop):
    copy = copy_of(shop.db).fresh()
    with copy.copy.read() as cur:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "audit_log" not in tables and "stock_ledger" not in tables and "orders" in tables
        assert scalar(cur, "SELECT count(*) FROM users WHERE password_hash <> ''") == 0
        assert scalar(cur, "SELECT count(*) FROM sessions") == 0
    engine = run_readonly(shop.db, shop.users["analyst"], "SELECT version() AS v").frame["v"][0]
    assert engine.startswith("v") and "PostgreSQL" not in engine   # DuckDB answered, not the shared server
    with pytest.raises(InvalidInput) as refused:                  # what the role's pages refuse, the copy does too
        run_readonly(shop.db, shop.users["analyst"], "SELECT payment_ref FROM refunds")
    assert refused.value.key == "console.not_permitted_column"


def _applied_in_copy(db) -> int:
    with copy_of(db).fresh().copy.read() as cur:
        return scalar(cur, "SELECT count(*) FROM voids WHERE status = 'applied'")


def test_migrate_copies_a_duckdb_file_into_an_empty_postgresql_database(tmp_path, pg_url):
    source = tmp_path / "demo.duckdb"
    assert cli(source, "seed", "--orders", "400", "--today", "2026-11-29").returncode == 0
    target = connect(pg_url)
    with target.read() as cur:   # the migrations' indexes: dropped for the copy, built again after it
        indexes = sorted(cur.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'").fetchall())
    moved = cli(source, "migrate", "--to", pg_url, "--json")
    assert moved.returncode == 0, moved.stderr
    try:
        with target.read() as cur:
            assert scalar(cur, "SELECT count(*) FROM orders") == 400
            assert sorted(cur.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'").fetchall()) \
                == indexes and len(indexes) > 30
        assert run_checks(target)["ok"]
        # Sequences continue past the copied ids: a new order gets a fresh id, not a clash.
        assert new_order(target, _user(target, "ops"))
    finally:
        target.close()
    again = cli(source, "migrate", "--to", pg_url)
    assert again.returncode == 1 and "already holds data" in again.stderr


def test_migrate_refuses_to_copy_in_the_wrong_direction(tmp_path, pg_url):
    result = cli(pg_url, "migrate", "--to", str(tmp_path / "x.duckdb"))
    assert result.returncode == 1 and "--to must name a PostgreSQL database" in result.stderr


def _user(db, username):
    from lib.cli.common import acting_user

    return acting_user(db, username)


def new_order(db, user) -> str:
    """A new order created through the service on the moved-up database: its number."""
    from lib.services import orders
    from lib.services.orders import LineInput

    with db.read() as cur:
        customer, warehouse, sku = cur.execute(
            "SELECT (SELECT code FROM customers ORDER BY id LIMIT 1), b.warehouse, b.sku FROM stock_balances b"
            " WHERE b.on_hand - b.reserved > 5 ORDER BY b.sku LIMIT 1").fetchall()[0]
    return orders.create_order(db, user, customer, warehouse, [LineInput(sku, 1)])["order_no"]


def test_a_wrong_address_is_said_in_one_line(tmp_path):
    result = cli("postgresql://nobody:secret@127.0.0.1:1/none", "check")
    assert result.returncode == 1
    assert "cannot open the database postgresql://nobody:***@127.0.0.1:1/none" in result.stderr
    assert "secret" not in result.stderr


def test_replicas_migrating_at_once_apply_each_migration_once(pg_server):
    with psycopg.connect(pg_server.url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE vd_fresh")
    handles = [connect(pg_server.database_url("vd_fresh")) for _ in range(3)]
    try:
        versions = _race(*[lambda h=h: apply_migrations(h) for h in handles])
        assert len(set(versions)) == 1 and isinstance(versions[0], int), versions
        with handles[0].read() as cur:
            # once each (numbers may skip one: a branch's migration 013 can land before another's 012)
            assert scalar(cur, "SELECT count(*) FROM schema_migrations") == len(migration_files("postgresql"))
            assert scalar(cur, "SELECT max(version) FROM schema_migrations") == versions[0]
    finally:
        for h in handles:
            h.close()


def test_a_search_reads_its_rows_from_the_server_and_counts_in_the_copy(shop, replica):
    from lib.queries.search import SearchFilters, search_orders

    numbers = [make_order(shop, lines=[("TOY-1", 1)]) for _ in range(12)]
    copy_of(shop.db).fresh()   # the copy is made: totals are counted there
    result = search_orders(shop.db, shop.users["ops"], SearchFilters(), limit=5)
    with shop.db.read() as cur:
        assert result.total == scalar(cur, "SELECT count(*) FROM orders") == 12
    voids.void_order(replica, shop.users["ops"], numbers[-1], "customer_cancelled")   # on the other replica
    newest = search_orders(shop.db, shop.users["ops"], SearchFilters(), limit=5).rows
    assert newest.iloc[0]["order_no"] == numbers[-1] and newest.iloc[0]["status"] == "voided"   # the rows: current


def test_a_search_by_sku_takes_its_orders_from_the_copy_including_lines_copied_later(shop):
    """The copy keeps order lines sorted by SKU for these searches (lib.replica.LINES_BY_SKU): lines of orders made
    after the first copy come with a refresh, and a line changed later (a return) is not listed twice."""
    from lib.queries.search import SearchFilters, search_orders
    from lib.replica import LINES_BY_SKU

    ops = shop.users["ops"]
    with shop.db.transaction() as cur:   # a catalogue in which one SKU is a sliver (the semi-join's case)
        cur.execute("INSERT INTO products SELECT 'FILL-' || i, 'Filler', 'toys', 1.00, TRUE"
                    " FROM generate_series(1, 60) AS g(i)")
    first = [make_order(shop, lines=[("TOY-1", 1), ("PHN-1", 1)]) for _ in range(3)]
    make_order(shop, lines=[("PHN-1", 2)])
    copy = copy_of(shop.db)
    copy.fresh()
    later = make_order(shop, lines=[("TOY-1", 2)])   # its lines reach the copy with a refresh
    with shop.db.transaction() as cur:   # a changed line comes over again, its SKU and order unchanged
        cur.execute("UPDATE order_lines SET unit_price = unit_price WHERE sku = 'TOY-1'")
    found = search_orders(shop.db, ops, SearchFilters(product="toy-1"), limit=2)
    assert found.total == 4 and list(found.rows["order_no"]) == [later, first[2]]
    assert found.rows.iloc[0]["status"] == "pending"   # rows as the server has them
    with copy.copy.read() as cur:
        assert scalar(cur, f"SELECT count(*) FROM {LINES_BY_SKU} WHERE sku = 'TOY-1'") == 4
    assert search_orders(shop.db, ops, SearchFilters(product="TOY-1"), limit=2, offset=4).total == 4
    with pytest.raises(InvalidInput):   # the console reads the app's own tables only
        run_readonly(shop.db, shop.users["analyst"], f"SELECT count(*) FROM {LINES_BY_SKU}")


def test_a_copy_left_behind_by_a_killed_process_is_removed_by_the_next_one(shop, tmp_path):
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from lib.replica import AnalyticsCopy

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = Path(tempfile.gettempdir()) / f"voiddesk-analytics-{int(ended.stdout)}-x1"
    left.mkdir()
    (left / "copy.duckdb").write_bytes(b"left behind")
    copy = AnalyticsCopy(shop.db)
    try:
        assert not left.exists() and Path(copy._folder).exists()
    finally:
        copy.copy.close()
