"""Group commit for voids on a DuckDB file (issue #14 §3): voids from concurrent sessions are written together.

On DuckDB one process writes, one transaction at a time, and a void's cost is mostly its dozen statements and its
commit, whatever the number of orders (lib.services.void_writes is set-based). So the first session to arrive
leads: it takes every void waiting, reads and checks each in one transaction (each its own rules → order →
checks, as void_order does alone), writes all the plans with one set of statements per acting user, and commits
once. Each caller still gets its own result or its own refusal; a double submit is answered from the first
(submission keys, as lib.services.idempotency.run_once). Two voids of one order, or two with one key, never share
a round: the later one waits for the next. Should the shared write fail, every void of the round runs again
alone, so one order's problem is never another's.

PostgreSQL does not need this: its writers lock only the rows they change and run side by side.
"""
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from lib import clock
from lib.errors import VoidDeskError
from lib.services.idempotency import prior, remember, run_once
from lib.services.void_writes import write_voids

KIND = "void.order"
CHANGED = "orders.changed_meanwhile"


@dataclass(eq=False)
class _Void:
    user: object
    order_no: str
    plan: Callable          # plan(cur) -> lib.void_checks.Plan, or raises the refusal
    key: str | None
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None


class VoidGroup:
    """The voids of one DuckDB database waiting to be written, and whoever is writing them."""

    def __init__(self, db):
        self.db = db
        self._waiting: list[_Void] = []
        self._lock = threading.Lock()
        self._leading = False
        self.rounds = 0          # transactions written (bench and tests read them)

    def void(self, user, order_no: str, plan: Callable, key: str | None) -> dict:
        """Write one void with whatever others wait; its own result, or its own refusal raised."""
        mine = _Void(user, order_no, plan, key)
        with self._lock:
            self._waiting.append(mine)
            lead, self._leading = not self._leading, True
        if lead:
            self._lead()
        mine.done.wait()
        if mine.error is not None:
            raise mine.error
        return mine.result

    def _lead(self) -> None:
        while True:
            with self._lock:
                round_ = self._take()
                if not round_:
                    self._leading = False
                    return
            try:
                self._write(round_)
            except BaseException:   # noqa: BLE001 - the shared write failed: each alone, with its own outcome
                for void in round_:
                    self._alone(void)
            finally:
                for void in round_:
                    void.done.set()

    def _take(self) -> list[_Void]:
        """The waiting voids of distinct orders and keys (the rest wait for the next round)."""
        taken, orders, keys, rest = [], set(), set(), []
        for void in self._waiting:
            if void.order_no in orders or (void.key and void.key in keys):
                rest.append(void)
                continue
            taken.append(void)
            orders.add(void.order_no)
            if void.key:
                keys.add(void.key)
        self._waiting = rest
        return taken

    def _write(self, round_: list[_Void]) -> None:
        outcomes: dict[_Void, tuple] = {}
        with self.db.transaction() as cur:
            planned: dict[int, list] = {}    # acting user's id -> [(void, plan)]
            for void in round_:
                first = prior(cur, void.key) if void.key else None
                if first is not None:
                    outcomes[void] = (first, None)
                    continue
                try:
                    plan = void.plan(cur)
                except VoidDeskError as exc:
                    outcomes[void] = (None, exc)
                    continue
                planned.setdefault(void.user.id, []).append((void, plan))
            now = clock.now()
            for pairs in planned.values():
                results = write_voids(cur, pairs[0][0].user, [p for _, p in pairs], now=now, changed_key=CHANGED)
                for (void, _), result in zip(pairs, results):
                    outcomes[void] = (remember(cur, void.key, KIND, void.user, result), None)
        self.rounds += 1
        for void, (result, error) in outcomes.items():
            void.result, void.error = result, error

    def _alone(self, void: _Void) -> None:
        def work(cur):
            return write_voids(cur, void.user, [void.plan(cur)], now=clock.now(), changed_key=CHANGED)[0]
        try:
            void.result, void.error = run_once(self.db, void.key, KIND, void.user, work), None
        except BaseException as exc:   # noqa: BLE001 - handed to its caller
            void.result, void.error = None, exc


_groups: dict[int, VoidGroup] = {}
_groups_lock = threading.Lock()


def group_for(db) -> VoidGroup:
    """The one VoidGroup of this database handle."""
    with _groups_lock:
        group = _groups.get(id(db))
        if group is None or group.db is not db:
            group = _groups[id(db)] = VoidGroup(db)
        return group
