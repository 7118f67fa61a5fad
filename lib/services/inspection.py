"""Return notes after creation (SPEC §5): receive the goods, inspect each line, close.

Stock moves only at inspection, through the ledger, into the note's warehouse: `restock` adds to on hand
(sellable again), `repair` adds to quarantine (not sellable), `scrap` is recorded with zero deltas.
A note closes by itself once it is inspected and its refund (if any) is no longer pending — at inspection,
or when finance pays the refund out; `close_return` does the same by hand and refuses while money is owed.
"""
from datetime import datetime

from lib import clock
from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User, require
from lib.errors import ConcurrentChange, InvalidInput, NotFound, RuleViolation
from lib.services import audit
from lib.services.idempotency import run_once
from lib.services.notify import notify
from lib.services.stock import Movement, apply_movements
from lib.services.orders import lock_order_of

RETURN_STATUSES = ("requested", "received", "inspected", "closed")
DISPOSITIONS = ("restock", "repair", "scrap")


def receive_return(db: Database, user: User, return_no: str, *, submission_key: str | None = None) -> dict:
    """requested → received: the goods have arrived in the note's warehouse."""
    require(user, "return.inspect")

    def work(cur):
        note = _receive(cur, user, load_note(cur, return_no))
        return {"return_no": note["return_no"], "status": "received"}

    return run_once(db, submission_key, "return.receive", user, work)


def inspect_return(db: Database, user: User, return_no: str, dispositions: dict, *, receive: bool = False,
                   submission_key: str | None = None) -> dict:
    """received → inspected (→ closed when no refund is pending): one disposition per line moves the stock.

    `dispositions` maps SKU -> restock | repair | scrap and must cover every line of the note. With
    receive=True a note still `requested` is received first, in the same transaction.
    """
    require(user, "return.inspect")
    wanted = _clean_dispositions(dispositions)

    def work(cur):
        note = load_note(cur, return_no)
        if receive and note["status"] == "requested":
            note = _receive(cur, user, note)
        return _inspect(cur, user, note, wanted)

    return run_once(db, submission_key, "return.inspect", user, work)


def close_return(db: Database, user: User, return_no: str, *, submission_key: str | None = None) -> dict:
    """inspected → closed; refused while the note's refund is still waiting to be paid out."""
    require(user, "return.inspect")

    def work(cur):
        note = load_note(cur, return_no)
        _expect(note, "inspected")
        if _refund_pending(cur, note["id"]):
            raise RuleViolation("returns.refund_outstanding", return_no=note["return_no"])
        _close(cur, user, note, clock.now())
        return {"return_no": note["return_no"], "status": "closed"}

    return run_once(db, submission_key, "return.close", user, work)


def close_if_settled(cur, user: User | None, return_id: int) -> bool:
    """Close an inspected note whose refund is no longer pending (called when a refund is paid out)."""
    rows = rows_as_dicts(cur, "SELECT * FROM return_notes WHERE id = ?", [return_id])
    if not rows or rows[0]["status"] != "inspected" or _refund_pending(cur, return_id):
        return False
    _close(cur, user, rows[0], clock.now())
    return True


def load_note(cur, return_no: str) -> dict:
    lock_order_of(cur, "SELECT order_id FROM return_notes WHERE return_no = ?", [(return_no or "").strip()])
    rows = rows_as_dicts(cur, "SELECT * FROM return_notes WHERE return_no = ?", [(return_no or "").strip()])
    if not rows:
        raise NotFound("returns.not_found", return_no=return_no or "—")
    return rows[0]


# --- steps ----------------------------------------------------------------------------------

def _receive(cur, user: User, note: dict) -> dict:
    _expect(note, "requested")
    now = clock.now()
    _advance(cur, note, "requested", "received", "received_by = ?, received_at = ?", [user.id, now])
    audit.record(cur, user, "return.receive", "return", note["id"], order_no=note["order_no"], at=now,
                 before={"status": "requested"}, after={"status": "received", "warehouse": note["warehouse"]})
    notify(cur, [note["requested_by"]], "return.received",
           {"order_no": note["order_no"], "return_no": note["return_no"], "warehouse": note["warehouse"]},
           order_no=note["order_no"], return_no=note["return_no"], exclude=user.id)
    return {**note, "status": "received", "received_by": user.id, "received_at": now}


def _inspect(cur, user: User, note: dict, wanted: dict[str, str]) -> dict:
    _expect(note, "received")
    lines = rows_as_dicts(cur, "SELECT id, sku, qty FROM return_lines WHERE return_id = ? ORDER BY id", [note["id"]])
    extra = sorted(set(wanted) - {ln["sku"] for ln in lines})
    if extra:
        raise InvalidInput("returns.sku_not_on_note", sku=", ".join(extra), return_no=note["return_no"])
    missing = sorted({ln["sku"] for ln in lines} - set(wanted))
    if missing:
        raise InvalidInput("returns.disposition_missing", sku=", ".join(missing))
    now = clock.now()
    _advance(cur, note, "received", "inspected", "inspected_by = ?, inspected_at = ?", [user.id, now])
    for ln in lines:
        cur.execute("UPDATE return_lines SET disposition = ? WHERE id = ?", [wanted[ln["sku"]], ln["id"]])
    apply_movements(cur, [_movement(note["warehouse"], ln["sku"], wanted[ln["sku"]], ln["qty"]) for ln in lines],
                    user, ref_type="return", ref_id=note["id"], order_no=note["order_no"], note=note["return_no"],
                    at=now)
    moves = [{"sku": ln["sku"], "qty": ln["qty"], "disposition": wanted[ln["sku"]]} for ln in lines]
    audit.record(cur, user, "return.inspect", "return", note["id"], order_no=note["order_no"], at=now,
                 before={"status": "received"}, after={"status": "inspected", "lines": moves})
    rep = scalar(cur, "SELECT rep_id FROM orders WHERE id = ?", [note["order_id"]])
    notify(cur, [note["requested_by"], rep], "return.inspected",
           {"order_no": note["order_no"], "return_no": note["return_no"]}, order_no=note["order_no"],
           return_no=note["return_no"], exclude=user.id)
    status = "inspected"
    if not _refund_pending(cur, note["id"]):
        _close(cur, user, {**note, "status": "inspected"}, now)
        status = "closed"
    return {"return_no": note["return_no"], "status": status, "lines": moves}


def _movement(warehouse: str, sku: str, disposition: str, qty: int) -> Movement:
    if disposition == "restock":
        return Movement(warehouse, sku, "restock", d_on_hand=qty)
    if disposition == "repair":
        return Movement(warehouse, sku, "repair", d_quarantine=qty)
    return Movement(warehouse, sku, "scrap")   # written off: recorded, no stock comes back


def _close(cur, user: User | None, note: dict, at: datetime) -> None:
    _advance(cur, note, "inspected", "closed", "closed_at = ?", [at])
    audit.record(cur, user, "return.close", "return", note["id"], order_no=note["order_no"], at=at,
                 before={"status": "inspected"}, after={"status": "closed"})


def _advance(cur, note: dict, from_status: str, to_status: str, sets: str, params: list) -> None:
    # Guarded by the status read: a racing step by someone else matches nothing (or conflicts).
    if not cur.execute(f"UPDATE return_notes SET status = ?, {sets} WHERE id = ? AND status = ? RETURNING id",
                       [to_status, *params, note["id"], from_status]).fetchall():
        raise ConcurrentChange("returns.changed_meanwhile", return_no=note["return_no"])


def _expect(note: dict, status: str) -> None:
    if note["status"] != status:
        raise RuleViolation("returns.wrong_status", return_no=note["return_no"],
                            status=f"return_status.{note['status']}", needed=f"return_status.{status}")


def _refund_pending(cur, return_id: int) -> bool:
    return bool(scalar(cur, "SELECT count(*) FROM refunds WHERE source = 'return' AND source_id = ?"
                            " AND status = 'pending'", [return_id]))


def _clean_dispositions(dispositions) -> dict[str, str]:
    pairs = list(dispositions.items()) if isinstance(dispositions, dict) else list(dispositions or [])
    out = {}
    for sku, disposition in pairs:
        sku, disposition = str(sku or "").strip().upper(), str(disposition or "").strip().lower()
        if disposition not in DISPOSITIONS:
            raise InvalidInput("returns.bad_disposition", value=disposition or "—", sku=sku)
        out[sku] = disposition
    return out
