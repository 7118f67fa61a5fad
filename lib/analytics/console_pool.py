"""The SQL console's worker processes (lib.analytics.console_worker), as one app process keeps them: at most
MAX_WORKERS at once, one kept idle between queries (starting one costs 0.2–0.9 s here: Python, DuckDB and Arrow
imported), each killed when its query's time is up."""
import atexit
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from lib.analytics.console_worker import receive, send
from lib.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
MAX_WORKERS = 2              # queries at once per app process; a third waits for a free one, up to its time limit
MEMORY_MB = 1024             # per worker, above what it holds once started (lib.analytics.console_worker)
START_S = 30
_ENV_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")   # no database address, password or other secret
# The lowest CPU priority (Linux's SCHED_IDLE: only CPU time nobody else wants) before anything else, so that even
# importing DuckDB and Arrow yields to the app, and only the last quarter of the CPUs (at least one). The priority
# alone was not enough: on this 2-core machine two busy workers at idle priority, one per core, took a lone void
# from 9.4 to 10.8 ms (90th percentile 11.7 to 16.7 ms), pinned to one core 9.7 ms (11.6 ms): the other core stays
# the app's (issue #16: the console's load must never slow the people voiding orders).
_START = ("import os, sys; os.nice(19); os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0));"
          " os.sched_setaffinity(0, {int(c) for c in sys.argv[2].split(',')});"
          " from lib.analytics.console_worker import main; main(int(sys.argv[1]))")


def console_cpus() -> list[int]:
    """The CPUs console workers may run on: the last quarter of this process's (at least one)."""
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[-max(1, len(cpus) // 4):]

_idle: list["Worker"] = []
_lock = threading.Lock()
_slots = threading.BoundedSemaphore(MAX_WORKERS)


class Worker:
    """One worker process and its two pipes."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-E", "-c", _START, str(MEMORY_MB), ",".join(map(str, console_cpus()))], cwd=ROOT,
            env={k: os.environ[k] for k in _ENV_KEPT if k in os.environ}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, start_new_session=True)
        self.ready = False
        self.clean = False   # set when a job ended at a message boundary: the worker waits for the next one

    @property
    def stdin(self):
        return self.proc.stdin

    @property
    def stdout(self):
        return self.proc.stdout

    def wait_ready(self) -> None:
        if self.ready:
            return
        timer = threading.Timer(START_S, self.kill)
        timer.start()
        try:
            message = receive(self.stdout)
        finally:
            timer.cancel()
        if not message or "ready" not in message:
            raise InvalidInput("console.unavailable")
        self.ready = True

    def send(self, message: dict) -> None:
        send(self.stdin, message)

    def receive(self) -> dict:
        message = receive(self.stdout)
        if message is None:
            raise EOFError("the console's worker ended")
        return message

    def kill(self) -> None:
        """Stop it at once, wherever it is (safe from another thread: a blocked read sees the pipe close)."""
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass

    def close(self) -> None:
        """Let an idle worker end (it stops at the end of its input), or kill a busy one."""
        if self.clean and self.proc.poll() is None:
            try:
                self.stdin.close()
                self.proc.wait(timeout=2)
                return
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        self.proc.wait()
        for pipe in (self.stdin, self.stdout):
            try:
                pipe.close()
            except OSError:
                pass


@contextmanager
def worker(wait_s: float):
    """A ready worker for one query; kept for the next when the query ended cleanly (w.clean), else ended."""
    if not _slots.acquire(timeout=wait_s):
        raise InvalidInput("console.busy")
    w = None
    try:
        with _lock:
            w = _idle.pop() if _idle else None
        if w is None or w.proc.poll() is not None:   # none idle, or it ended (killed from outside)
            if w is not None:
                w.close()
            w = _start()
        w.clean = False
        w.wait_ready()
        yield w
    finally:
        if w is not None:
            _give_back(w)
        _slots.release()


def warm_up() -> None:
    """Start a worker now (without waiting for it) when none is idle, so the first query does not wait."""
    with _lock:
        if not _idle:
            try:
                w = _start()
            except InvalidInput:
                return                   # the query that needs one will say so
            w.clean = True
            _idle.append(w)


def _start() -> Worker:
    try:
        return Worker()
    except OSError:                      # no process could be started (out of memory, process limit)
        raise InvalidInput("console.unavailable") from None


def _give_back(w: Worker) -> None:
    with _lock:
        if w.clean and w.proc.poll() is None and not _idle:
            _idle.append(w)
            return
    w.close()
    warm_up()   # a killed worker's successor starts now, not when the next query waits for it


@atexit.register
def _close_idle() -> None:
    with _lock:
        idle, _idle[:] = list(_idle), []
    for w in idle:
        w.close()
