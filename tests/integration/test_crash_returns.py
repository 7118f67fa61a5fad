"""Returns and inspection survive a crash (issue #8): a real process runs a plan — a return note, a batch of notes,
receiving one, inspecting it (restock, repair, scrap through the ledger), receiving and inspecting another in one
go — and is SIGKILLed after a random statement inside a transaction (seeded: the seed and statement are printed),
or at a random moment after it, around the commits. Reopened, the file holds the state after some whole prefix of
the plan — exactly the state an undisturbed run had at that point — `check` is ok, and submitting the whole plan
again (with the same submission keys) completes it without doing anything twice."""
import random

import pytest

from lib.db import Database, rows_as_dicts
from lib.queries.check import run_checks
from lib.services import returns
from lib.services.orders import LineInput
from lib.services.stock import Movement, apply_movements
from tests.integration.crash_helpers import calibrate, copy_database, duplicate_ids, perform, run_plan_and_kill
from tests.integration.returns_fixture import shipped_order

pytestmark = pytest.mark.usefixtures("duckdb_only")

RETURNS = "lib.services.returns"
MIXED = [LineInput("PHN-1", 1), LineInput("PHN-2", 1), LineInput("TOY-1", 2)]

# Everything a return or an inspection writes, without ids and clock times (return numbers without their day).
_RT = r"regexp_replace({}, '-\d{{8}}-', '-')"
FINGERPRINT = {
    "orders": "SELECT order_no, status, payment_status, version, amount_refunded FROM orders ORDER BY 1",
    "order_lines": "SELECT o.order_no, l.line_no, l.sku, l.qty_returned FROM order_lines l"
                   " JOIN orders o ON o.id = l.order_id ORDER BY 1, 2",
    "return_notes": f"SELECT {_RT.format('return_no')}, order_no, status, reason_code, warehouse, refund_amount,"
                    " received_at IS NOT NULL, inspected_at IS NOT NULL, closed_at IS NOT NULL FROM return_notes"
                    " ORDER BY 1",
    "return_lines": f"SELECT {_RT.format('r.return_no')}, l.sku, l.qty, l.unit_price, l.disposition"
                    " FROM return_lines l JOIN return_notes r ON r.id = l.return_id ORDER BY ALL",
    "refunds": "SELECT order_no, source, amount, status FROM refunds ORDER BY ALL",
    "ledger": "SELECT warehouse, sku, kind, d_on_hand, d_reserved, d_quarantine, ref_type, order_no, count(*)"
              " FROM stock_ledger GROUP BY ALL ORDER BY ALL",
    "balances": "SELECT warehouse, sku, on_hand, reserved, quarantine FROM stock_balances ORDER BY ALL",
    "audit": "SELECT action, entity_type, order_no, count(*) FROM audit_log GROUP BY ALL ORDER BY ALL",
    "notifications": f"SELECT user_id, kind, order_no, {_RT.format('return_no')}, count(*) FROM notifications"
                     " GROUP BY ALL ORDER BY ALL",
    "counters": f"SELECT {_RT.format('name')}, value FROM counters ORDER BY 1",
    "submissions": "SELECT key, kind FROM submissions ORDER BY 1",
}


def fingerprint(db: Database) -> dict:
    with db.read() as cur:
        return {name: [tuple(r.values()) for r in rows_as_dicts(cur, sql)] for name, sql in FINGERPRINT.items()}


def _setup(shop) -> list:
    """Shipped orders made through the services, two return notes already requested; returns the plan."""
    with shop.db.transaction() as cur:
        apply_movements(cur, [Movement("SH", "PHN-1", "receipt", d_on_hand=50),
                              Movement("SH", "PHN-2", "receipt", d_on_hand=10)], None, ref_type="receipt", ref_id=None)
    single = shipped_order(shop)
    batch = [shipped_order(shop) for _ in range(4)]
    paid, unpaid = shipped_order(shop, lines=MIXED), shipped_order(shop, paid=False, lines=MIXED)
    ops_user = shop.users["ops"]
    note_a = returns.create_return(shop.db, ops_user, paid, {"PHN-1": 1, "PHN-2": 1, "TOY-1": 2}, "quality")
    note_b = returns.create_return(shop.db, ops_user, unpaid, {"PHN-1": 1, "PHN-2": 1, "TOY-1": 2}, "wrong_item")
    a, b = note_a["return_no"], note_b["return_no"]
    ops = [
        [f"{RETURNS}:create_return", "ops", [single, {"PHN-1": 1, "TOY-1": 2}, "damaged"], {}],
        [f"{RETURNS}:create_returns_batch", "ops", [batch, "changed_mind"], {"note": "batch 批量"}],
        [f"{RETURNS}:receive_return", "warehouse", [a], {}],
        [f"{RETURNS}:inspect_return", "warehouse", [a, {"PHN-1": "restock", "PHN-2": "repair", "TOY-1": "scrap"}], {}],
        [f"{RETURNS}:inspect_return", "warehouse", [b, {"PHN-1": "repair", "PHN-2": "restock", "TOY-1": "restock"}],
         {"receive": True}],
    ]
    for i, (_, _, _, kwargs) in enumerate(ops):
        kwargs["submission_key"] = f"crash-{i}"   # as the forms send: a retry after the crash must not act twice
    return ops


_BUILT: dict = {}   # the plan and its undisturbed run, made once per module: every test starts from a copy


@pytest.fixture
def plan(request, tmp_path_factory, tmp_path):
    """The plan, a fresh copy of its starting file (closed: the child needs its write lock) and an undisturbed
    run of it."""
    if not _BUILT:
        shop = request.getfixturevalue("shop")
        ops = _setup(shop)
        shop.db.close()
        template = copy_database(shop.db.path, str(tmp_path_factory.mktemp("crash-returns") / "start.duckdb"))
        calibration = calibrate(template, ops, fingerprint, str(tmp_path / "calibration.duckdb"))
        states = calibration["states"]
        assert all(states[i] != states[i + 1] for i in range(len(ops))), "every operation must change something"
        _BUILT.update(ops=ops, template=template, **calibration)
    return {**_BUILT, "path": copy_database(_BUILT["template"], str(tmp_path / "crash.duckdb"))}


def _op_of(statement: int, ends: list[int]) -> int:
    """The index of the operation that runs the statement."""
    return next(i for i, end in enumerate(ends) if statement <= end)


def _reopen_and_finish(plan: dict) -> None:
    """The crashed file passes `check`; submitting the whole plan again (same keys, as a user retrying would)
    reaches the undisturbed final state: what was done is not done twice, what was lost is done. One more return,
    received and inspected, then takes fresh ids everywhere."""
    db = Database(plan["path"])
    try:
        checks = run_checks(db)
        assert checks["ok"], checks
        perform(db, plan["ops"])
        assert fingerprint(db) == plan["states"][-1]
        single = plan["ops"][0][2][0]
        perform(db, [[f"{RETURNS}:create_return", "ops", [single, {"PHN-1": 1, "TOY-1": 1}, "quality"], {}]])
        with db.read() as cur:
            note = cur.execute("SELECT max(return_no) FROM return_notes").fetchall()[0][0]
        perform(db, [[f"{RETURNS}:inspect_return", "warehouse", [note, {"PHN-1": "restock", "TOY-1": "repair"}],
                      {"receive": True}]])
        assert duplicate_ids(db) == {}
        assert run_checks(db)["ok"]
    finally:
        db.close()


def _state_index(plan: dict) -> int:
    """Which prefix of the plan the crashed file holds (fails if it matches none)."""
    db = Database(plan["path"])
    try:
        state = fingerprint(db)
    finally:
        db.close()
    matches = [i for i, s in enumerate(plan["states"]) if s == state]
    assert matches, _difference(state, plan["states"])
    return matches[-1]


def _difference(state: dict, states: list[dict]) -> str:
    """What differs from the nearest whole prefix, to read when the file holds half an operation."""
    nearest = min(states, key=lambda s: sum(s[k] != state[k] for k in s))
    return "; ".join(f"{k}: crashed {state[k]} vs whole {nearest[k]}" for k in state if state[k] != nearest[k])


def _killed_inside(plan: dict, seed: int, statement: int | None = None) -> None:
    ends = plan["ends"]
    statement = statement or random.Random(seed).randint(1, ends[-1])
    op = _op_of(statement, ends)
    print(f"seed {seed}: killed after statement {statement} of {ends[-1]} (inside operation {op}, ends {ends})")
    done = run_plan_and_kill(plan["path"], plan["ops"], statement, hang=True)
    assert done == list(range(op))
    assert _state_index(plan) == op, f"seed {seed}, statement {statement}"
    _reopen_and_finish(plan)


def _killed_around(plan: dict, seed: int, checkpoint: bool) -> None:
    rng = random.Random(seed)
    ends = plan["ends"]
    statement = rng.randint(1, ends[-1])
    op = _op_of(statement, ends)
    delay = rng.uniform(0, 1.5 * sum(plan["seconds"][op:]))
    print(f"seed {seed}: killed {delay * 1000:.0f} ms after statement {statement} of {ends[-1]} (operation {op})"
          f"{', every commit checkpointing' if checkpoint else ''}")
    done = run_plan_and_kill(plan["path"], plan["ops"], statement, hang=False, delay=delay, checkpoint=checkpoint)
    index = _state_index(plan)
    print(f"  the file holds the first {index} operations (reported done: {done})")
    # ops before the one marked had committed; at most one op can have committed without reporting it
    assert op <= index and len(done) <= index <= len(done) + 1, f"seed {seed}: state {index}, reported {done}"
    _reopen_and_finish(plan)


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_inside_a_return_or_inspection_leaves_the_whole_operation_out(plan, seed):
    _killed_inside(plan, seed)


@pytest.mark.parametrize("op", [1, 4])
def test_killed_just_before_commit_leaves_the_whole_operation_out(plan, op):
    # every statement of the batch (op 1) or of the receive-and-inspect (op 4) has run; the commit has not
    _killed_inside(plan, 0, statement=plan["ends"][op])


@pytest.mark.parametrize("seed, checkpoint", [(3, False), (9, True)])
def test_killed_around_the_commits_leaves_whole_operations(plan, seed, checkpoint):
    _killed_around(plan, seed, checkpoint)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 120))
def test_killed_inside_at_many_random_statements(plan, seed):
    _killed_inside(plan, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(200, 230))
def test_killed_at_many_random_moments(plan, seed):
    _killed_around(plan, seed, checkpoint=seed % 2 == 1)
