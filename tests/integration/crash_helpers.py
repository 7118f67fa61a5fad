"""Killing a real process mid-operation (issue #8): a child process works on a database file and says MID from
inside a transaction; the test SIGKILLs it (at once, or after a delay that may land around the commit), reopens
the file and inspects what is there.

A child marks the moment either from a progress callback or with statement_hook(), which counts the statements
run inside transactions. perform() runs a plan of service calls given as JSON, so the test can run the same plan
in-process on a copy of the file first (to count its statements and record the state after each operation)."""
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANG = 120   # seconds a child waits at MID to be killed

# Runs a plan; after statement `kill_at` (counted inside transactions) it says MID and, with `hang`, waits there.
# It prints "DONE i" after each operation i, so the output tells how far it got.
PLAN_CHILD = """
import json, sys, time
from lib.db import Database
from tests.integration.crash_helpers import HANG, checkpoint_every_commit, perform, statement_hook

path, plan = sys.argv[1], json.loads(sys.argv[2])

def mark(n):
    if n == plan["kill_at"]:
        print("MID", flush=True)
        if plan["hang"]:
            time.sleep(HANG)

db = Database(path)
if plan["checkpoint"]:
    checkpoint_every_commit(db)
with statement_hook(mark):
    perform(db, plan["ops"], lambda i: print("DONE", i, flush=True))
"""


def run_and_kill(code: str, args: list[str], delay: float, timeout: float = 60) -> str:
    """Run `python -c code *args` from the project root; once it prints MID wait `delay` seconds and SIGKILL it.
    Returns everything it printed. Fails when the child ends (or stays silent) without saying MID."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(timeout, child.kill)
    watchdog.start()
    try:
        before = []
        line = child.stdout.readline()
        while line and line.strip() != "MID":
            before.append(line)
            line = child.stdout.readline()
        assert line.strip() == "MID", f"the child never said MID: {child.stderr.read()}"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        return "".join(before) + line + child.stdout.read()
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()


def run_plan_and_kill(path: str, ops: list, kill_at: int, hang: bool, delay: float = 0.0,
                      checkpoint: bool = False) -> list[int]:
    """Run `ops` (see perform) in a child killed after its `kill_at`-th statement inside a transaction (`delay`
    seconds later unless `hang`); returns the indexes of the operations it reported done. With `checkpoint`
    every commit also checkpoints the file, so a late kill may land inside a checkpoint."""
    plan = json.dumps({"ops": ops, "kill_at": kill_at, "hang": hang, "checkpoint": checkpoint})
    printed = run_and_kill(PLAN_CHILD, [path, plan], delay)
    return [int(line.split()[1]) for line in printed.splitlines() if line.startswith("DONE")]


def checkpoint_every_commit(db) -> None:
    """Make every commit write the WAL into the file at once (DuckDB waits for 16 MB of WAL by default)."""
    with db.read() as cur:
        cur.execute("SET checkpoint_threshold = '1KB'")   # a global setting: every connection of the process


@contextmanager
def statement_hook(after):
    """Call after(n) once the n-th statement run inside a transaction (lib.db cursors, this process) has executed.
    Yields a one-item list holding the count so far."""
    from lib.db import Cursor

    inside: set[int] = set()
    count = [0]
    original = Cursor.execute

    def begin(self):
        inside.add(id(self))
        return self._cur.begin()

    def end(name):
        def finish(self):
            inside.discard(id(self))
            return getattr(self._cur, name)()
        return finish

    def execute(self, sql, parameters=None):
        result = original(self, sql, parameters)
        if id(self) in inside:
            count[0] += 1
            after(count[0])
        return result

    Cursor.begin, Cursor.commit, Cursor.rollback, Cursor.execute = begin, end("commit"), end("rollback"), execute
    try:
        yield count
    finally:
        Cursor.execute = original
        del Cursor.begin, Cursor.commit, Cursor.rollback


def perform(db, ops: list, done=lambda i: None) -> list:
    """Run each op — ["module:function", username, args, kwargs] — as function(db, user, *args, **kwargs), in
    order; call done(i) after each. Returns the results."""
    from lib.cli.common import acting_user

    results = []
    for i, (target, username, args, kwargs) in enumerate(ops):
        module, name = target.split(":")
        function = getattr(importlib.import_module(module), name)
        results.append(function(db, acting_user(db, username), *args, **kwargs))
        done(i)
    return results


def copy_database(path: str, to: str) -> str:
    """A copy of a closed database file (and its WAL, if any)."""
    shutil.copyfile(path, to)
    if os.path.exists(path + ".wal"):
        shutil.copyfile(path + ".wal", to + ".wal")
    return to


def calibrate(path: str, ops: list, fingerprint, scratch: str) -> dict:
    """Run `ops` in-process on a copy of the closed file at `path`: `states` (fingerprint(db) before and after each
    op), `ends` (statements counted inside transactions when each op ended) and `seconds` (each op's duration)."""
    from lib.db import Database

    db = Database(copy_database(path, scratch))
    states, ends, seconds = [fingerprint(db)], [], []
    started = [time.perf_counter()]

    def done(i):
        ends.append(count[0])
        seconds.append(time.perf_counter() - started[0])
        states.append(fingerprint(db))
        started[0] = time.perf_counter()

    try:
        with statement_hook(lambda n: None) as count:
            perform(db, ops, done)
    finally:
        db.close()
    return {"states": states, "ends": ends, "seconds": seconds}


def duplicate_ids(db) -> dict[str, int]:
    """Tables (of those with an `id` column) where some id is used twice — as it would be if a crash lost a
    sequence's progress but kept the rows (most of these tables have no primary key to refuse it)."""
    with db.read() as cur:
        tables = [r[0] for r in cur.execute("SELECT table_name FROM information_schema.columns"
                                            " WHERE column_name = 'id' AND table_schema = 'main' ORDER BY 1").fetchall()]
        counts = {t: cur.execute(f'SELECT count(id) - count(DISTINCT id) FROM "{t}"').fetchall()[0][0]
                  for t in tables}
    return {t: n for t, n in counts.items() if n}
