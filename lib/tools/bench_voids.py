"""Void figures for bench: lone voids in sequence, sessions voiding at once, and a 1,000-order batch, through the
services the app uses, on orders an operations lead may void at once."""
import statistics
import threading
import time

from lib.db import Database
from lib.queries.settings import read_rules
from lib.services.voids import void_batch, void_order

SINGLE_VOIDS = 200             # voids timed one after another
BATCH_SIZE = 1000
CLIENTS = 16                   # sessions voiding at once (void_concurrent)
CONCURRENT_VOIDS = 800         # voids they make between them


def void_figures(db: Database, ops) -> dict:
    numbers = voidable(db, SINGLE_VOIDS + 1 + BATCH_SIZE + CONCURRENT_VOIDS)
    at_once = min(CONCURRENT_VOIDS, len(numbers) // 3)   # small databases: a third voided at once
    concurrent, numbers = numbers[:at_once], numbers[at_once:]
    split = min(SINGLE_VOIDS + 1, len(numbers) // 2)   # small databases: half one by one, half as the batch
    single, batch = numbers[:split], numbers[split:]
    f: dict = {"voidable_orders_found": len(numbers) + len(concurrent)}
    if concurrent:
        f.update(concurrent_voids(db, ops, concurrent))
        if db.backend == "duckdb":   # the concurrent phase's log into the file first (DuckDB does so by itself every
            with db.read() as cur:   # 16 MB of log), so that the lone voids below do not pay for the phase before
                cur.execute("CHECKPOINT")
    if len(single) >= 2:
        void_order(db, ops, single[0], "customer_cancelled")   # warm-up, not counted
        started = time.perf_counter()
        times = [ms for ms, _cpu in timed_voids(db, ops, single[1:])]
        elapsed = time.perf_counter() - started
        f.update(void_single_ms=round(statistics.median(times), 2), void_single_p90_ms=round(p90(times), 2),
                 void_single_max_ms=round(max(times), 1), voids_in_sequence=len(times),
                 voids_per_second=round(len(times) / elapsed, 1))
    if batch:
        t0 = time.perf_counter()
        result = void_batch(db, ops, batch, "customer_cancelled")
        f.update(batch_void_s=round(time.perf_counter() - t0, 3), batch_void_orders=len(batch),
                 batch_voided=result["voided"])
    return f


def timed_voids(db: Database, ops, numbers: list[str]) -> list[tuple[float, float]]:
    """Lone voids one after another: each one's wall time and this process's CPU time for it, in milliseconds."""
    out = []
    for number in numbers:
        started, cpu = time.perf_counter(), time.process_time()
        void_order(db, ops, number, "customer_cancelled")
        out.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
    return out


def p90(times: list[float]) -> float:
    return sorted(times)[int(0.9 * (len(times) - 1))]


def concurrent_voids(db: Database, ops, numbers: list[str], clients: int = CLIENTS, name: str = "voids_concurrent"
                     ) -> dict:
    """`clients` sessions (threads, as Streamlit's) voiding distinct orders at once: voids per second, and on DuckDB
    how many transactions carried them (lib.services.void_group writes the voids waiting together)."""
    from lib.services.void_group import group_for

    queue, lock, errors = list(numbers), threading.Lock(), []

    def client():
        while True:
            with lock:
                if not queue:
                    return
                number = queue.pop()
            try:
                void_order(db, ops, number, "customer_cancelled")
            except Exception as exc:   # noqa: BLE001 - counted, not fatal
                errors.append(type(exc).__name__)

    rounds = group_for(db).rounds if db.backend == "duckdb" else 0
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    out = {f"{name}_per_second": round((len(numbers) - len(errors)) / elapsed, 1), f"{name}_clients": clients,
           name: len(numbers), f"{name}_errors": len(errors)}
    if db.backend == "duckdb":
        out[f"{name}_transactions"] = group_for(db).rounds - rounds
    return out


def voidable(db: Database, limit: int) -> list[str]:
    """Orders an ops user can void at once: open, below the approval threshold, no request waiting."""
    with db.read() as cur:
        threshold = read_rules(cur).approval_threshold
        return [r[0] for r in cur.execute(
            "SELECT o.order_no FROM orders o WHERE o.status IN ('pending', 'processing') AND o.total < ?"
            " AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'pending_approval')"
            " ORDER BY o.id LIMIT ?", [threshold, limit]).fetchall()]
