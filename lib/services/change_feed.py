"""The change feed back to the ERP (issue #15, SPEC §9): every void, restore, return, return received, inspection
and refund payout since a moment, or since a target's last export, one row each, from the audit log.

`since="last"` with a target (the ERP's name) sends each change exactly once, however often the job runs and
whatever else writes meanwhile: every export for a target records how far it read (export_marks, migration 010),
in the transaction that read the rows.

- On a DuckDB file one process writes, its transactions in turn, so audit entries appear in id order: the mark is
  the last entry sent.
- On PostgreSQL entries can become visible out of id order (a transaction that took id 100 may commit after one
  that took 101), so the mark is the snapshot the export read (pg_current_snapshot()): the next export sends the
  entries that snapshot did not see (changed_by_xact, migrations/postgresql/005) and the new one does.
"""
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from lib import clock
from lib.db import CONFLICT_ERRORS, CONSTRAINT_ERRORS, Database, for_update
from lib.domain import User, require
from lib.errors import ConcurrentChange, InvalidInput

# audit action -> what happened, as the feed says it
EVENTS = {"void.apply": "void", "void.restore": "restore", "return.create": "return",
          "return.receive": "return_received", "return.inspect": "inspection", "refund.paid": "refund_paid"}
COLUMNS = ("change_id", "changed_at", "event", "order_no", "return_no", "reason_code", "amount", "payment_ref",
           "actor", "note", "details")
FORMATS = ("csv", "xlsx", "parquet")
MAX_TARGET = 60

# What each entry is about, from the records themselves: a void's reason and the refund it made owed, a return's
# number, reason and refund, a payout's amount and reference. `details`: the entry's own JSON (lines, dispositions).
_FEED = f"""SELECT a.id AS change_id, a.created_at AS changed_at, a.action, a.order_no,
        coalesce(r.return_no, fr.return_no) AS return_no, coalesce(v.reason_code, r.reason_code) AS reason_code,
        CASE WHEN a.action = 'void.apply' THEN vf.amount WHEN a.action = 'void.restore' THEN NULL
             WHEN a.action = 'return.create' THEN r.refund_amount WHEN a.action = 'refund.paid' THEN f.amount END
            AS amount,
        f.payment_ref, a.actor_name AS actor, a.note, a.after AS details
    FROM audit_log a
    LEFT JOIN voids v ON a.entity_type = 'void' AND CAST(v.id AS VARCHAR) = a.entity_id
    LEFT JOIN refunds vf ON a.action = 'void.apply' AND vf.source = 'void' AND vf.source_id = v.id
    LEFT JOIN return_notes r ON a.entity_type = 'return' AND CAST(r.id AS VARCHAR) = a.entity_id
    LEFT JOIN refunds f ON a.entity_type = 'refund' AND CAST(f.id AS VARCHAR) = a.entity_id
    LEFT JOIN return_notes fr ON f.source = 'return' AND fr.id = f.source_id
    WHERE a.action IN ({", ".join(f"'{a}'" for a in EVENTS)}) AND {{where}}
    ORDER BY a.id"""


@dataclass
class Feed:
    rows: pd.DataFrame     # COLUMNS, oldest first
    target: str | None     # the target whose mark moved on (None: an export that remembers nothing)
    since: datetime | str | None


def export_changes(db: Database, user: User, since, target: str | None = None) -> Feed:
    """The changes since `since` (a datetime, or "last": since `target`'s last export). With a target the mark
    moves on to what was read, in the same transaction. Leads may read the audit log, so they may export it."""
    require(user, "audit.view")
    target = _clean_target(target)
    last = since == "last"
    if last and target is None:
        raise InvalidInput("changes.last_needs_target")
    if not last and not isinstance(since, datetime):
        raise InvalidInput("changes.bad_since", value=str(since)[:40])
    with db.transaction() as cur:
        window = open_window(cur, target, None if last else since)
        frame = cur.execute(_FEED.format(where=window.where), window.params).df()
        frame["event"] = frame.pop("action").map(EVENTS)
        frame = frame[list(COLUMNS)]
        if target:
            mark = window.mark
            through = int(frame["change_id"].max()) if len(frame) else (mark["through_id"] if mark else 0)
            if window.snapshot is None and not last and mark:   # an export by time never moves the mark back
                through = max(through, mark["through_id"])
            close_window(cur, window, through, len(frame), user.id)
    return Feed(frame, target, since)


@dataclass
class Window:
    """The audit entries a reader of `target` has not read yet (or those since a moment): `where` on audit_log `a`."""
    target: str | None
    where: str
    params: list
    snapshot: str | None    # PostgreSQL: the snapshot this read sees
    mark: dict | None       # where the target's last read ended: {through_id, snapshot}


def open_window(cur, target: str | None, since: datetime | None = None) -> Window:
    """Inside a write transaction: the entries after `target`'s mark (its row locked until the transaction ends),
    or since `since`. Also what lib.services.chat_events reads the audit log through."""
    server = cur.backend == "postgresql"
    snapshot = cur.execute("SELECT CAST(pg_current_snapshot() AS VARCHAR)").fetchall()[0][0] if server else None
    mark = _mark(cur, target) if target else None
    where, params = _window(server, snapshot, mark if since is None else None, since)
    return Window(target, where, params, snapshot, mark)


def close_window(cur, window: Window, through: int, rows: int, by: int | None) -> None:
    """Move the target's mark on to what the window read (through: the last entry id read), in the same
    transaction; a target's first mark made twice at once is refused by its key (ConcurrentChange)."""
    _save_mark(cur, by, window.target, window.mark, through, window.snapshot, rows)


def _window(server: bool, snapshot: str | None, mark: dict | None, since: datetime | None) -> tuple[str, list]:
    """The entries to send: since a moment, or after the mark (all of them before a target's first export)."""
    if server:   # only what the snapshot read sees: the next export goes on from exactly there
        seen = "pg_visible_in_snapshot(a.changed_by_xact, CAST(? AS pg_snapshot))"
        if since is not None:
            return f"a.created_at >= ? AND {seen}", [since, snapshot]
        if mark and mark["snapshot"]:
            return (f"a.changed_by_xact >= pg_snapshot_xmin(CAST(? AS pg_snapshot)) AND NOT"
                    f" pg_visible_in_snapshot(a.changed_by_xact, CAST(? AS pg_snapshot)) AND {seen}",
                    [mark["snapshot"], mark["snapshot"], snapshot])
        return f"a.id > ? AND {seen}", [mark["through_id"] if mark else 0, snapshot]
    if since is not None:
        return "a.created_at >= ?", [since]
    return "a.id > ?", [mark["through_id"] if mark else 0]


def _mark(cur, target: str) -> dict | None:
    rows = cur.execute(f"SELECT through_id, snapshot FROM export_marks WHERE target = ?{for_update(cur)}",
                       [target]).fetchall()
    return {"through_id": int(rows[0][0]), "snapshot": rows[0][1]} if rows else None


def _save_mark(cur, by: int | None, target: str, mark: dict | None, through: int, snapshot: str | None,
               n: int) -> None:
    now = clock.now()
    try:
        if mark is None:   # two first exports at once: the second is refused by the key
            cur.execute("INSERT INTO export_marks (target, through_id, snapshot, exported_at, exported_by, rows)"
                        " VALUES (?, ?, ?, ?, ?, ?)", [target, through, snapshot, now, by, n])
            return
        cur.execute("UPDATE export_marks SET through_id = ?, snapshot = ?, exported_at = ?, exported_by = ?,"
                    " rows = ? WHERE target = ?", [through, snapshot, now, by, n, target])
    except (*CONFLICT_ERRORS, *CONSTRAINT_ERRORS):   # PostgreSQL: a unique violation
        raise ConcurrentChange("changes.exported_meanwhile", target=target) from None


def _clean_target(target: str | None) -> str | None:
    text = (target or "").strip()
    if not text:
        return None
    if len(text) > MAX_TARGET or not all(ch.isalnum() or ch in "-_." for ch in text):
        raise InvalidInput("changes.bad_target", value=text[:MAX_TARGET], n=MAX_TARGET)
    return text


def marks(db: Database, user: User) -> pd.DataFrame:
    """Each target's last export: target, exported_at, rows, by whom (the app's own readers, named ':…', left out)."""
    require(user, "audit.view")
    with db.read() as cur:
        return cur.execute("SELECT m.target, m.exported_at, m.rows, u.username AS exported_by FROM export_marks m"
                           " LEFT JOIN users u ON u.id = m.exported_by WHERE m.target NOT LIKE ':%'"
                           " ORDER BY m.target").df()


def as_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The feed as CSV (UTF-8 with BOM, formulas neutralised), Excel or Parquet."""
    from lib.queries.frame_export import frame_csv, frame_excel

    if fmt == "csv":   # money as written, 2 decimals
        return frame_csv(frame.assign(amount=frame["amount"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")))
    if fmt == "xlsx":
        return frame_excel(frame, "changes")
    if fmt == "parquet":
        import io

        out = io.BytesIO()
        frame.to_parquet(out, index=False)
        return out.getvalue()
    raise InvalidInput("changes.bad_format", value=str(fmt)[:20], allowed=", ".join(FORMATS))
