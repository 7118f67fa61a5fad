import threading

import pytest

from lib.db import Database, apply_migrations, migration_files, schema_version
from lib.errors import ConcurrentChange


def test_migrations_are_applied_once_and_recorded(db):
    version = schema_version(db)
    assert version == max(n for n, _, _ in migration_files())
    assert apply_migrations(db) == version
    with db.read() as cur:
        # once each (numbers may skip one: a branch's migration 013 can land before another's 012)
        assert cur.execute("SELECT count(*) FROM schema_migrations").fetchall()[0][0] == len(migration_files())


def test_default_reasons_and_rules_are_seeded_by_the_schema(db):
    with db.read() as cur:
        codes = cur.execute("SELECT kind, code FROM reasons WHERE active ORDER BY kind, sort_order").fetchall()
        system = cur.execute("SELECT kind, code, active FROM reasons WHERE NOT active").fetchall()
        rules = dict(cur.execute("SELECT key, value FROM settings").fetchall())
    assert [c for k, c in codes if k == "void"] == [
        "customer_cancelled", "out_of_stock", "order_error", "payment_failed", "fraud_risk", "other"]
    assert [c for k, c in codes if k == "return"] == ["quality", "changed_mind", "wrong_item", "damaged", "other"]
    assert system == [("void", "imported", False)]   # set by the import only, never offered in a form
    assert rules["approval_threshold"] == "10000" and rules["restore_window_hours"] == "72"


def test_transaction_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("INSERT INTO counters VALUES ('x', 1)")
            raise RuntimeError("boom")
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM counters WHERE name = 'x'").fetchall()[0][0] == 0


def test_conflicting_writes_raise_concurrent_change_and_keep_the_winner(db, duckdb_only):
    with db.transaction() as cur:
        cur.execute("INSERT INTO counters VALUES ('n', 0)")
    # Two sessions' transactions, driven by hand so they certainly overlap (issue #13): the first writes and stays
    # open; the second's write of the same row conflicts at once, and the first still commits.
    with db.unlocked_transaction() as first:
        first.execute("UPDATE counters SET value = 1 WHERE name = 'n'")
        with pytest.raises(ConcurrentChange):
            with db.unlocked_transaction() as second:
                second.execute("UPDATE counters SET value = 2 WHERE name = 'n'")
    with db.read() as cur:
        assert cur.execute("SELECT value FROM counters WHERE name = 'n'").fetchall()[0][0] == 1
    assert "Nothing was saved" in ConcurrentChange().message("en")


def test_cursors_in_threads_see_only_their_own_results(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO counters SELECT 'c' || i, i FROM generate_series(0, 199) t(i)")
    errors = []

    def worker(i):
        for _ in range(50):
            with db.read() as cur:
                got = cur.execute("SELECT value FROM counters WHERE name = ?", [f"c{i}"]).fetchall()
            if got != [(i,)]:
                errors.append((i, got))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert errors == []


def test_reopening_an_existing_file_keeps_data(tmp_path):
    path = str(tmp_path / "x.duckdb")
    first = Database(path)
    apply_migrations(first)
    with first.transaction() as cur:
        cur.execute("INSERT INTO counters VALUES ('kept', 7)")
    first.close()
    second = Database(path)
    assert apply_migrations(second) == schema_version(second)
    with second.read() as cur:
        assert cur.execute("SELECT value FROM counters WHERE name = 'kept'").fetchall() == [(7,)]
    second.close()


def test_writers_in_one_process_take_turns(db, duckdb_only):
    with db.transaction() as cur:
        cur.execute("INSERT INTO counters VALUES ('n', 0)")

    def bump():
        for _ in range(20):
            with db.transaction() as cur:
                value = cur.execute("SELECT value FROM counters WHERE name = 'n'").fetchall()[0][0]
                cur.execute("UPDATE counters SET value = ? WHERE name = 'n'", [value + 1])

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    with db.read() as cur:
        assert cur.execute("SELECT value FROM counters WHERE name = 'n'").fetchall()[0][0] == 80


def _threshold(cur):
    from lib.queries.settings import read_rules
    return read_rules(cur).approval_threshold


def test_kept_rules_are_forgotten_after_any_write_to_them_committed_or_not(db):
    with db.transaction() as cur:
        assert _threshold(cur) == 10000
    with db.transaction() as cur:
        cur.execute("UPDATE settings SET value = '500' WHERE key = 'approval_threshold'")
        assert _threshold(cur) == 500          # the writer sees its own change, never a kept copy
    with db.transaction() as cur:
        assert _threshold(cur) == 500
    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("UPDATE settings SET value = '7' WHERE key = 'approval_threshold'")
            assert _threshold(cur) == 7
            raise RuntimeError("boom")
    with db.transaction() as cur:
        assert _threshold(cur) == 500          # the rolled-back value was not kept


def test_people_and_reasons_follow_direct_writes(db):
    from lib.services.notify import active_users
    from lib.queries.void_load import find_reason
    with db.transaction() as cur:
        before = len(active_users(cur))
        assert find_reason(cur, "customer_cancelled") is not None
    with db.transaction() as cur:
        cur.execute("INSERT INTO users (username, display_name, role, password_hash) VALUES ('new', 'New', 'ops', 'x')")
        cur.execute("UPDATE reasons SET active = FALSE WHERE kind = 'void' AND code = 'customer_cancelled'")
    with db.transaction() as cur:
        assert len(active_users(cur)) == before + 1
        assert find_reason(cur, "customer_cancelled") is None
