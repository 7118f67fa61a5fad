"""The SQL console's worker process (main(MEMORY_MB)), started and killed by lib.analytics.console_pool. Why a
process, and what it may do, is in lib.analytics.console.

One job at a time, over stdin/stdout (length-prefixed JSON, an Arrow IPC stream for the result):
  ← job {sql, tables, readable, withheld, timezone, row_limit, byte_limit, seconds}
  → {"reads": [[table, [columns]], …]} or {"refused": key, "params": …}
  ← {"snapshot": path, "columns": {table: [columns]}}: a file holding at least those columns
    (lib.analytics.console_snapshot)
  → {"rows_cut", "bytes_cut", "retire"} and an Arrow stream of the result, or {"refused": …}
The checks run on in-memory empty tables shaped like the app's readable ones (kept while they stay the same), the
query on a new in-memory database of views over the snapshot, attached read-only before files are locked away. The
worker never opens the app's database, and the app's process never runs the analyst's SQL.
"""
import gc
import json
import os
import resource
import signal
import sys

import duckdb
import pyarrow as pa
import pyarrow.ipc as ipc

from lib.analytics.console_checks import Access, check, first_line
from lib.errors import InvalidInput

DUCKDB_SHARE = 0.5           # of the worker's memory: DuckDB's own limit (the rest: the result, Arrow, Python)
CHECK_MB = 64                # for the checks: binding evaluates constant arguments
RETIRE_MB = 512              # a worker grown past this (memory kept by allocators) is replaced after its job
_MAX_MESSAGE = 64 << 20
_BATCH_ROWS = 256            # Arrow batches of the result: a row may be large; the byte limit cuts between rows
SNAPSHOT_WAIT_S = 900        # for the snapshot, which the app may be making (a parent gone closes the pipe first)
SNAPSHOT = "snapshot"        # the snapshot's name in the query's database


def send(out, message: dict) -> None:
    data = json.dumps(message, default=str).encode()
    out.write(len(data).to_bytes(4, "big") + data)
    out.flush()


def receive(inp) -> dict | None:
    """The next message, or None when the other side has gone."""
    head = inp.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    if size > _MAX_MESSAGE:
        raise ValueError("message too large")
    body = inp.read(size)
    if len(body) < size:
        return None
    return json.loads(body)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def database(timezone: str, memory_mb: int, tables: dict | None = None,
             snapshot: str | None = None) -> duckdb.DuckDBPyConnection:
    """A new in-memory database with the console's settings locked in (one thread, a memory limit, no spilling to
    disk, no files, no extensions, no Python variables as tables) and, with `tables`, those tables, empty; with
    `snapshot`, that file attached read-only as SNAPSHOT before every other file is locked away."""
    con = duckdb.connect(":memory:", config={
        "threads": 1, "memory_limit": f"{memory_mb}MB", "temp_directory": "", "python_enable_replacements": False,
        "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"SET TimeZone = '{timezone.replace(chr(39), '')}'")
    con.execute("SET enable_progress_bar = false")   # it would write to stdout, the parent's channel
    if snapshot:
        con.execute(f"ATTACH '{snapshot.replace(chr(39), chr(39) * 2)}' AS {SNAPSHOT} (READ_ONLY)")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    if tables:
        con.execute(";".join(f"CREATE TABLE {quote(table)} ({', '.join(f'{quote(c)} {kind}' for c, kind in columns)})"
                             for table, columns in tables.items()))
    return con


_checkers: dict[str, duckdb.DuckDBPyConnection] = {}


def checker(job: dict, memory_mb: int) -> duckdb.DuckDBPyConnection:
    """The empty tables queries are checked on, kept while the schema (the role's tables) stays the same: checking
    binds a query, never runs it."""
    key = json.dumps([job["tables"], job["timezone"]], sort_keys=True)
    if key not in _checkers:
        for con in _checkers.values():
            con.close()
        _checkers.clear()
        _checkers[key] = database(job["timezone"], memory_mb, job["tables"])
    return _checkers[key]


def view(con, table: str, columns: list, held: list[str]) -> None:
    """A view named like the table over its copy in the snapshot. Columns the snapshot does not hold (the query does
    not read them) are errors if anything reads them after all, never silent NULLs."""
    select = ", ".join(f"s.{quote(c)}" if c in held else
                       f"CAST(error('{c.replace(chr(39), chr(39) * 2)} is not in the snapshot') AS {kind}) AS {quote(c)}"
                       for c, kind in columns)
    con.execute(f"CREATE VIEW {quote(table)} AS SELECT {select} FROM {SNAPSHOT}.{quote(table)} s")


def run(con, sql: str, row_limit: int, byte_limit: int) -> tuple[pa.Table, dict]:
    """The query's first rows, within row_limit rows and byte_limit bytes (as Arrow), in a read-only transaction."""
    con.execute("BEGIN TRANSACTION READ ONLY")
    relation = con.sql(sql)
    names = unique(relation.columns)
    reader = relation.to_arrow_reader(_BATCH_ROWS)
    kept: list[pa.RecordBatch] = []
    rows = size = 0
    info = {"rows_cut": False, "bytes_cut": False}
    for batch in reader:
        if not batch.num_rows:
            continue
        if rows == row_limit:
            info["rows_cut"] = True
            break
        part = batch.slice(0, row_limit - rows)
        fit = fitting(part, byte_limit - size)
        kept.append(part.slice(0, fit))
        rows, size = rows + fit, size + kept[-1].nbytes
        info["rows_cut"], info["bytes_cut"] = part.num_rows < batch.num_rows, fit < part.num_rows
        if info["rows_cut"] or info["bytes_cut"]:
            break
    if info["bytes_cut"] and rows == 0:
        raise InvalidInput("console.row_too_big", mb=byte_limit >> 20)
    return pa.Table.from_batches(kept, schema=reader.schema).rename_columns(names), info


def fitting(batch: pa.RecordBatch, room: int) -> int:
    """How many leading rows of `batch` fit in `room` bytes."""
    if batch.nbytes <= room:
        return batch.num_rows
    low, high = 0, batch.num_rows            # slices count only the bytes of their own rows
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if batch.slice(0, mid).nbytes <= room else (low, mid - 1)
    return low


def unique(names: list[str]) -> list[str]:
    """Column names made unique (`SELECT 1, 1` has two columns called 1), so the table can be shown."""
    out: list[str] = []
    for name in names:
        count = sum(1 for n in names[:len(out)] if n == name)
        out.append(f"{name}_{count + 1}" if count else name)
    return out


def serve(job: dict, inp, out, memory_mb: int) -> None:
    """One job, start to end (the parent kills the process if it takes too long)."""
    try:
        reads = check(checker(job, CHECK_MB), job["sql"], Access(job["readable"], job["withheld"]))
    except InvalidInput as exc:
        return send(out, {"refused": exc.key, "params": exc.params, "retire": False})
    send(out, {"reads": list(reads.items())})
    signal.alarm(SNAPSHOT_WAIT_S)
    data = receive(inp)
    if data is None:
        return
    signal.alarm(int(job["seconds"]) + 30)
    con = database(job["timezone"], int(memory_mb * DUCKDB_SHARE), snapshot=data["snapshot"])
    try:
        for table in reads:
            view(con, table, job["tables"][table], data["columns"][table])
        try:
            result, info = run(con, job["sql"], job["row_limit"], job["byte_limit"])
        except InvalidInput as exc:
            return send(out, {"refused": exc.key, "params": exc.params, "retire": False})
        except (duckdb.OutOfMemoryException, MemoryError, pa.ArrowMemoryError):
            return send(out, {"refused": "console.out_of_memory", "params": {"mb": memory_mb}, "retire": True})
        except (duckdb.Error, pa.ArrowException, OSError) as exc:   # DuckDB's, met while Arrow reads: an OSError
            key = "console.out_of_memory" if "Out of Memory" in str(exc) else "console.failed"
            return send(out, {"refused": key, "params": {"mb": memory_mb, "detail": first_line(exc)},
                              "retire": key == "console.out_of_memory"})
        send(out, {**info, "retire": _rss_mb() > RETIRE_MB})
        with ipc.new_stream(out, result.schema) as stream:
            stream.write_table(result)
        out.flush()
    finally:
        con.close()
        gc.collect()


def _rss_mb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20


def _limit_self(memory_mb: int) -> None:
    """One thread, and a ceiling on memory above what the process holds once started (it runs at the lowest CPU
    priority from its first line: lib.analytics.console_pool)."""
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    duckdb.connect(":memory:").close()       # what a connection reserves counts in the base, not the budget
    with open("/proc/self/status") as f:
        base_kb = next(int(line.split()[1]) for line in f if line.startswith("VmData:"))
    ceiling = (base_kb << 10) + (memory_mb << 20)
    resource.setrlimit(resource.RLIMIT_DATA, (ceiling, ceiling))


def main(memory_mb: int) -> None:
    out = os.fdopen(os.dup(1), "wb")         # the channel; anything else printing to stdout goes to stderr
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    _limit_self(memory_mb)
    send(out, {"ready": os.getpid()})
    while (job := receive(inp)) is not None:
        signal.alarm(int(job["seconds"]) + 30)   # should the parent be gone without closing the pipe
        serve(job, inp, out, memory_mb)
        signal.alarm(0)
