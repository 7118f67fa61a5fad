"""A crash mid-batch leaves nothing half-done (SPEC §12): a real process runs a large void_batch on a database
file and is SIGKILLed mid-way; reopened, every order of the batch is voided or none is, and the checks hold."""
import pytest

from lib.db import connect
from lib.queries.check import run_checks
from tests.integration.crash_helpers import run_and_kill
from tests.integration.void_helpers import bulk_orders

pytestmark = pytest.mark.both_backends

ORDERS = 2000

# Runs the batch; after the first chunk is written (still inside the transaction) it says MID and, in
# "hang" mode, waits there to be killed.
CHILD = """
import sys, time
from lib.cli.common import acting_user
from lib.db import connect
from lib.services.voids import void_batch
from tests.integration.crash_helpers import HANG

path, mode, numbers = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
db = connect(path)
told = []

def progress(fraction):
    if 0.05 < fraction < 1 and not told:
        told.append(fraction)
        print("MID", flush=True)
        if mode == "hang":
            time.sleep(HANG)

result = void_batch(db, acting_user(db, "ops"), numbers, "out_of_stock", progress=progress)
print("DONE", result["voided"], flush=True)
"""


def _state(path: str, numbers: list[str]) -> dict:
    db = connect(path)
    try:
        with db.read() as cur:
            counts = cur.execute(
                "SELECT (SELECT count(*) FROM orders WHERE status = 'voided' AND order_no = ANY(?)),"
                " (SELECT count(*) FROM voids WHERE order_no = ANY(?)),"
                " (SELECT count(*) FROM refunds WHERE order_no = ANY(?)),"
                " (SELECT count(*) FROM stock_ledger WHERE kind = 'release' AND order_no = ANY(?)),"
                " (SELECT count(*) FROM audit_log WHERE action = 'void.apply' AND order_no = ANY(?)),"
                " (SELECT reserved FROM stock_balances WHERE sku = 'BULK-1')", [numbers] * 5).fetchall()[0]
        return {"counts": counts, "checks": run_checks(db)}
    finally:
        db.close()


@pytest.mark.parametrize("mode, delay", [("hang", 0.0), ("race", 0.0), ("race", 0.15), ("race", 0.4)])
def test_killed_batch_is_all_or_nothing(shop, mode, delay, backend, request):
    if backend == "postgresql" and (mode, delay) in (("race", 0.0), ("race", 0.4)) \
            and not request.config.getoption("--runslow"):
        pytest.skip("larger variant: run with --runslow (PostgreSQL: one hang and one race by default)")
    numbers = bulk_orders(shop.db, ORDERS)
    path = shop.db.path
    shop.db.close()   # the child needs the file's write lock (DuckDB)
    printed = run_and_kill(CHILD, [path, mode, ",".join(numbers)], delay)
    state = _state(path, numbers)
    voided, void_rows, refunds, releases, audits, reserved = state["counts"]
    assert state["checks"]["ok"], state["checks"]
    if mode == "hang":
        assert "DONE" not in printed
    assert voided in (0, ORDERS), state
    n = voided
    assert (void_rows, refunds, releases, audits, reserved) == (n, n, n, n, ORDERS - n), state
