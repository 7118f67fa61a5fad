"""How much the SQL console slows the people voiding orders (issue #16 finding 2): lone voids in sequence on a copy of
a seeded database, alone; while two analysts run heavy console queries back to back on the console's snapshot
(lib.analytics.console_snapshot, made before the phase starts: the steady state); while one analyst's every query
makes a new snapshot (the worst the console can cost, which happens at most once a minute per role in use); the
three phases interleaved, several rounds.

    python -m lib.tools.bench_console PATH_TO_A_COPY.duckdb [--voids 200] [--rounds 3]

It voids orders in the file it is given: pass a copy (e.g. of the bench's seed-1000000.duckdb).
"""
import argparse
import json
import statistics
import threading
import time

from lib.analytics.console import run_readonly
from lib.analytics.console_snapshot import MAX_AGE_S
from lib.db import open_database
from lib.tools.bench import user_named
from lib.tools.bench_voids import p90, timed_voids, voidable

HEAVY = ("SELECT levenshtein(repeat('a', 150000), repeat('b', 150000))",
         "SELECT o.warehouse, count(*), sum(l.qty * l.unit_price) FROM orders o JOIN order_lines l"
         " ON l.order_id = o.id GROUP BY 1")


def _figures(samples: list[tuple[float, float]]) -> dict:
    """Median and 90th percentile of the voids' times, and this process's CPU per void (the console's share of the
    app's CPU, if any, shows as more CPU per void: the voids themselves cost the same)."""
    times = [t for t, _ in samples]
    return {"voids": len(times), "median_ms": round(statistics.median(times), 2), "p90_ms": round(p90(times), 2),
            "app_cpu_ms_per_void": round(sum(c for _, c in samples) / len(samples), 2)}


def measure(path: str, voids: int = 200, rounds: int = 3) -> dict:
    """The phases interleaved, `rounds` times (so that whatever else the machine does falls on each alike)."""
    db = open_database(path)
    ops, analyst = user_named(db, "lead"), user_named(db, "analyst")
    numbers = iter(voidable(db, 3 * rounds * voids + 20))
    batch = lambda: [next(numbers) for _ in range(voids)]   # noqa: E731
    timed_voids(db, ops, [next(numbers) for _ in range(20)])     # warm-up
    started = time.perf_counter()
    run_readonly(db, analyst, HEAVY[1])
    out = {"snapshot_made_s": round(time.perf_counter() - started, 2)}
    phases: dict[str, list] = {"alone": [], "with_two_console_queries": [], "while_snapshots_are_made": []}
    runs: dict[str, list] = {"console_runs": [], "snapshot_runs": []}
    for _ in range(rounds):
        phases["alone"] += timed_voids(db, ops, batch())
        samples, ran = _while(db, ops, batch(), analyst, HEAVY)   # on the snapshot made above: the steady state
        phases["with_two_console_queries"] += samples
        runs["console_runs"] += ran
        samples, ran = _while(db, ops, batch(), analyst, HEAVY[1:], age_s=0)   # the worst case
        phases["while_snapshots_are_made"] += samples
        runs["snapshot_runs"] += ran
    return {**out, **{name: _figures(samples) for name, samples in phases.items()}, **runs}


def _while(db, ops, numbers: list[str], analyst, queries, age_s: float = MAX_AGE_S) -> tuple[list, list]:
    """The voids' figures while analysts run `queries` back to back, each on data at most age_s old."""
    stop, runs = threading.Event(), []

    def analyst_at_work(sql: str) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                run_readonly(db, analyst, sql, data_max_age_s=age_s)
            except Exception as exc:   # noqa: BLE001 - a refusal (the time limit) is part of the load
                runs.append(type(exc).__name__)
            runs.append(round(time.perf_counter() - started, 1))

    analysts = [threading.Thread(target=analyst_at_work, args=(sql,)) for sql in queries]
    for thread in analysts:
        thread.start()
    try:
        return timed_voids(db, ops, numbers), runs
    finally:
        stop.set()
        for thread in analysts:
            thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a copy of a seeded DuckDB file (orders are voided in it)")
    parser.add_argument("--voids", type=int, default=200, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.path, args.voids, args.rounds), indent=1))


if __name__ == "__main__":
    main()
