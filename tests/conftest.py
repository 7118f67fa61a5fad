"""Shared fixtures: every test gets its own real DuckDB file under tmp_path.

The suite never reads the calendar: it runs as if today were FIXED_TODAY (or the day `--today` names), through
lib.clock's VOIDDESK_TODAY, which the seed, the services, the pages, the CLI and the browser tests' servers share.
"""
import os

# Before anything imports lib.services.auth (which picks its hasher on import), and inherited by the CLI processes
# and browser-test servers the tests start: Argon2id with cheap parameters (see lib.services.auth).
os.environ["VOIDDESK_FAST_PASSWORD_HASHING_FOR_TESTS"] = "1"

import shutil  # noqa: E402
from datetime import date

import pytest

from lib import clock

from lib.db import Database, apply_migrations
from lib.services.auth import hash_password

# One Argon2 hash reused for test users: hashing is deliberately slow.
TEST_PASSWORD = "test-password"
_HASH = hash_password(TEST_PASSWORD)


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    """One empty, migrated database file per test process, copied for each test that needs a fresh one: a copy
    costs a millisecond, running every migration again a tenth of a second (~700 tests use `db`)."""
    path = tmp_path_factory.mktemp("template") / "migrated.duckdb"
    database = Database(str(path))
    apply_migrations(database)
    database.close()
    return path


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for this test process (lib.tools.pgserver), with one migrated template
    database that every fresh test database is created from (CREATE DATABASE … TEMPLATE takes ~30 ms)."""
    import psycopg

    from lib.db import connect
    from lib.tools.pgserver import PgServer

    server = PgServer(durable=False).start()
    try:
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE vd_template")
        template = connect(server.database_url("vd_template"))
        apply_migrations(template)
        template.close()
        yield server
    finally:
        server.stop()


_pg_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a fresh, migrated PostgreSQL database of this test's own."""
    import psycopg

    name = f"vd_test_{next(_pg_databases)}"
    with psycopg.connect(pg_server.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE vd_template")
    return pg_server.database_url(name)


@pytest.fixture
def pg_db(pg_url):
    from lib.db import connect

    database = connect(pg_url)
    apply_migrations(database)   # a no-op on the copy: it proves the template is at the newest migration
    yield database
    database.close()


@pytest.fixture(scope="session")
def shop_file(migrated_file, tmp_path_factory):
    """The migrated file with the `shop` fixture's catalogue and users in it, made once per test process: a test
    using `shop` on DuckDB starts from a copy of it (filling each database anew cost ~45 ms a test)."""
    path = tmp_path_factory.mktemp("template") / "shop.duckdb"
    shutil.copyfile(migrated_file, path)
    database = Database(str(path))
    fill_shop(database)
    database.close()
    return path


@pytest.fixture
def duck_db(request, tmp_path, migrated_file):
    """A copy of the migrated file (made by apply_migrations once per process), or of the shop's when the test
    uses `shop`."""
    path = tmp_path / "test.duckdb"
    uses_shop = "shop" in request.fixturenames
    shutil.copyfile(request.getfixturevalue("shop_file") if uses_shop else migrated_file, path)
    database = Database(str(path))
    database.has_shop = uses_shop
    yield database
    database.close()


@pytest.fixture
def backend(request) -> str:
    """The backend behind `db`: --backend (default duckdb); modules marked both_backends run on each in turn."""
    return request.config.getoption("--backend")


@pytest.fixture
def db(request, backend):
    """A fresh, migrated database: a DuckDB file, or a PostgreSQL database, so the same tests prove the same
    promises on both backends (issue #14)."""
    return request.getfixturevalue("pg_db" if backend == "postgresql" else "duck_db")


# Browser modules that start their own servers (not the shared demo server): another worker can run them at the
# same time as the other browser tests.
OWN_SERVERS = ("tests/e2e/test_replicas_journey.py", "tests/e2e/test_oidc_journey.py")


def pytest_xdist_make_scheduler(config, log):
    """How `pytest -n N` (scripts/test.sh) shares the suite out: a module at a time (its module-scoped fixtures
    are built once), except the browser tests on the shared demo server, which are one unit together
    (tests/e2e/conftest.py); OWN_SERVERS modules are units of their own. xdist's own
    groups (`--dist loadgroup`) do nothing with pytest 9: xdist 3.8 renames `item._nodeid`, which pytest 9 no
    longer reads, so the unit is chosen here."""
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndBrowser(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module in OWN_SERVERS:   # browser tests with servers of their own: a unit of their own
                return module
            return "tests/e2e" if nodeid.startswith("tests/e2e/") else module

    return ModulesAndBrowser(config, log)


def pytest_generate_tests(metafunc):
    """Modules marked `both_backends` (races, double submits, a kill mid-batch, the copy and moving up) run on a
    DuckDB file and on PostgreSQL in the default run; `--backend=postgresql` runs every db test on PostgreSQL."""
    if metafunc.definition.get_closest_marker("both_backends") and "backend" in metafunc.fixturenames \
            and metafunc.config.getoption("--backend") == "duckdb":
        metafunc.parametrize("backend", ["duckdb", "postgresql"])


@pytest.fixture
def duckdb_only(request):
    """For tests of DuckDB's own file (crash recovery from its WAL, file copies): skipped with --backend=postgresql,
    where tests/integration/test_void_crash.py kills a writer mid-batch instead."""
    if request.config.getoption("--backend") != "duckdb":
        pytest.skip("a test of DuckDB's database file")


def add_user(db: Database, username: str, role: str, active: bool = True):
    """Insert a user directly (fast) and return it as the services see it."""
    from lib.services.auth import user_from_row
    from lib.db import rows_as_dicts

    with db.transaction() as cur:
        cur.execute("INSERT INTO users (username, display_name, role, password_hash, active)"
                    " VALUES (?, ?, ?, ?, ?)", [username, username.title(), role, _HASH, active])
        row = rows_as_dicts(cur, "SELECT id, username, display_name, role, language, must_change_password"
                                 " FROM users WHERE username = ?", [username])[0]
    return user_from_row(row)


# A fixed day for every run, so a test cannot pass on one day and fail on the next (issue #13).
FIXED_TODAY = "2026-11-29"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run the larger (slow) variants")
    parser.addoption("--today", default=FIXED_TODAY, metavar="YYYY-MM-DD",
                     help=f"run the suite as if it were this day (default {FIXED_TODAY})")
    parser.addoption("--backend", default="duckdb", choices=("duckdb", "postgresql"),
                     help="the database behind the `db` fixture: a DuckDB file (default) or a throwaway "
                          "PostgreSQL server's database")


def pytest_configure(config):
    day = config.getoption("--today")
    try:
        date.fromisoformat(day)
    except ValueError:
        raise pytest.UsageError(f"--today {day!r} is not a calendar day written YYYY-MM-DD") from None
    os.environ[clock.ENV] = day   # inherited by the CLI subprocesses and the browser tests' servers


def pytest_report_header(config):
    return f"as if today were {config.getoption('--today')} (--today); database: {config.getoption('--backend')}"


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="larger variant: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def replica(shop):
    """A second app process on the shop's PostgreSQL database: its own handle (its own pool of connections)."""
    from lib.db import connect

    other = connect(shop.db.path)
    yield other
    other.close()


SHOP_USERS = ("sales", "ops", "ops_lead", "finance", "warehouse", "analyst", "admin", "sales2")


@pytest.fixture
def shop(db):
    """A tiny catalogue: warehouses SH and GZ, three products, stock received through the ledger,
    two customers, and one user per role (as `shop.users[role]`; and a second sales rep, sales2)."""
    from types import SimpleNamespace

    from lib.db import rows_as_dicts
    from lib.services.auth import user_from_row

    if getattr(db, "has_shop", False):   # a copy of shop_file: filled already
        with db.read() as cur:
            rows = rows_as_dicts(cur, "SELECT id, username, display_name, role, language, must_change_password"
                                      " FROM users WHERE username = ANY(?)", [list(SHOP_USERS)])
        users = {row["username"]: user_from_row(row) for row in rows}
    else:
        users = fill_shop(db)
    return SimpleNamespace(db=db, users=users)


def fill_shop(db) -> dict:
    """The shop's rows written into `db`; its users by name."""
    from lib.services.stock import Movement, apply_movements

    with db.transaction() as cur:
        cur.execute("INSERT INTO warehouses VALUES ('SH', 'Shanghai', '上海仓'), ('GZ', 'Guangzhou', '广州仓')")
        cur.execute("INSERT INTO categories VALUES ('phones', 'Phones', '手机', 1), ('toys', 'Toys', '玩具', 2)")
        cur.execute("INSERT INTO products VALUES ('PHN-1', 'Phone One', 'phones', 2999.00, TRUE),"
                    " ('PHN-2', 'Phone Two', 'phones', 6500.00, TRUE), ('TOY-1', 'Robot 机器人', 'toys', 99.50, TRUE),"
                    " ('OLD-1', 'Retired thing', 'toys', 10, FALSE)")
        cur.execute("INSERT INTO customers (code, name, city) VALUES ('CUS-1', 'Acme Trading 艾克美', 'Shanghai'),"
                    " ('CUS-2', 'Beta Retail', 'Guangzhou')")
        apply_movements(cur, [Movement("SH", "PHN-1", "receipt", d_on_hand=10),
                              Movement("SH", "PHN-2", "receipt", d_on_hand=5),
                              Movement("SH", "TOY-1", "receipt", d_on_hand=100),
                              Movement("GZ", "PHN-1", "receipt", d_on_hand=3)],
                        None, ref_type="receipt", ref_id=None)
    users = {role: add_user(db, role, role) for role in SHOP_USERS[:-1]}
    users["sales2"] = add_user(db, "sales2", "sales")
    return users


def balance(db, warehouse: str, sku: str) -> tuple[int, int, int]:
    """(on_hand, reserved, quarantine) of one stock pair."""
    with db.read() as cur:
        rows = cur.execute("SELECT on_hand, reserved, quarantine FROM stock_balances WHERE warehouse = ? AND sku = ?",
                           [warehouse, sku]).fetchall()
    return tuple(rows[0]) if rows else (0, 0, 0)
