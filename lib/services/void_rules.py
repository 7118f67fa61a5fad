"""Who may void which order and whether it needs approval (SPEC §4) — shared by the previews and the writes."""
from dataclasses import dataclass
from decimal import Decimal

from lib.db import memo, rows_as_dicts
from lib.domain import VOIDABLE_STATUSES, User, may_see_order, refusal
from lib.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation, VoidDeskError
from lib.domain import Rules

MAX_NOTE = 2000
MAX_BATCH = 5000
ORDER_COLUMNS = ("id, order_no, customer_id, rep_id, warehouse, status, total, amount_paid, amount_refunded,"
                 " version")

# Order status -> why it cannot be voided (SPEC §4); shipped and completed goods come back through a return.
_STATE_REFUSALS = {"shipped": "voids.shipped_use_return", "completed": "voids.completed_use_return",
                   "voided": "voids.already_voided", "archived": "voids.archived"}


@dataclass(frozen=True)
class Reason:
    code: str
    label_en: str
    label_zh: str
    note_required: bool

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


def find_reason(cur, code: str | None) -> Reason | None:
    """The active void reason with its labels as they read now, or None."""
    return memo(cur, "void_reasons", _active_void_reasons).get((code or "").strip())


def _active_void_reasons(cur) -> dict[str, Reason]:
    return {r[0]: Reason(*r) for r in cur.execute("SELECT code, label_en, label_zh, note_required FROM reasons"
                                                  " WHERE kind = 'void' AND active").fetchall()}


def require_reason(cur, code: str | None) -> Reason:
    if not (code or "").strip():
        raise InvalidInput("voids.reason_missing")
    reason = find_reason(cur, code)
    if reason is None:
        raise InvalidInput("voids.unknown_reason", code=(code or "").strip() or "—")
    return reason


def clean_note(note, *, required_key: str | None = None) -> str | None:
    """The note stripped (None when empty); refuses a missing required note or one that is too long."""
    note = str(note or "").strip() or None
    if note is None and required_key:
        raise InvalidInput(required_key)
    if note and len(note) > MAX_NOTE:
        raise InvalidInput("voids.note_too_long", n=MAX_NOTE)
    return note


def clean_void_note(note, reason: Reason) -> str | None:
    note = clean_note(note)
    if note is None and reason.note_required:
        raise InvalidInput("voids.note_required", reason=reason.label_en)
    return note


def actor_refusal(user: User, rules: Rules) -> VoidDeskError | None:
    """Why this user cannot void (or request a void of) any order, or None."""
    if user is not None and user.is_sales:
        denied = refusal(user, "void.request")
        if denied is None and not rules.sales_may_request_voids:
            return RuleViolation("voids.sales_requests_off")
        return denied
    return refusal(user, "void.create")


def state_refusal(order: dict, has_pending_request: bool) -> VoidDeskError | None:
    """Why this order cannot be voided now, or None."""
    status, order_no = order["status"], order["order_no"]
    if status not in VOIDABLE_STATUSES:
        key = _STATE_REFUSALS.get(status, "voids.not_voidable")
        return RuleViolation(key, order_no=order_no, status=f"status.{status}")
    if has_pending_request:
        return RuleViolation("voids.request_pending", order_no=order_no)
    return None


def approval_reason(user: User, total, rules: Rules) -> str | None:
    """'threshold' or 'sales_request' when the void must wait for an operations lead, else None."""
    if Decimal(str(total)) >= rules.approval_threshold:
        return "threshold"
    if user.is_sales:
        return "sales_request"
    return None


def owed(order: dict) -> Decimal:
    """The money a void gives back: paid in and not yet refunded."""
    return max(Decimal(str(order["amount_paid"] or 0)) - Decimal(str(order["amount_refunded"] or 0)),
               Decimal("0.00"))


def not_found(order_no: str) -> NotFound:
    return NotFound("orders.not_found", order_no=order_no or "—")


def visible(user: User, order: dict | None) -> bool:
    return order is not None and may_see_order(user, order["rep_id"])


def load_orders(cur, order_nos: list[str]) -> dict[str, dict]:
    """order_no -> the order row (the columns a void needs)."""
    rows = rows_as_dicts(cur, f"SELECT {ORDER_COLUMNS} FROM orders WHERE list_contains(?, order_no)",
                         [list(order_nos)])
    return {r["order_no"]: r for r in rows}


def pending_requests(cur, order_ids: list[int]) -> dict[int, dict]:
    """order id -> its newest void request waiting for approval."""
    if not order_ids:
        return {}
    which, param = ("order_id = ?", order_ids[0]) if len(order_ids) == 1 else ("list_contains(?, order_id)",
                                                                               list(order_ids))
    rows = rows_as_dicts(cur, f"SELECT * FROM voids WHERE {which} AND status = 'pending_approval'"
                              " ORDER BY requested_at, id", [param])
    return {r["order_id"]: r for r in rows}


def has_pending_request(cur, order_id: int) -> bool:
    """Whether a void request for the order waits for approval (pending_requests for one order, only cheaper)."""
    return bool(cur.execute("SELECT id FROM voids WHERE order_id = ? AND status = 'pending_approval' LIMIT 1",
                            [order_id]).fetchall())


def clean_numbers(order_nos) -> list[str]:
    """Order numbers stripped, blanks dropped, duplicates removed (first kept); refuses none or too many."""
    seen = dict.fromkeys(str(n or "").strip() for n in (order_nos or []))
    seen.pop("", None)
    if not seen:
        raise InvalidInput("voids.batch_empty")
    if len(seen) > MAX_BATCH:
        raise InvalidInput("voids.batch_too_large", n=MAX_BATCH)
    return list(seen)


def describe(key: str, params: dict, lang: str = "en") -> str:
    """A refusal or outcome (key + params) as a sentence in the language."""
    kind = PermissionDenied if key == "error.permission" else VoidDeskError
    return kind(key, **(params or {})).message(lang)


def as_refusal(exc: VoidDeskError) -> tuple[str, dict]:
    """(key, params) of a refusal, with params that survive JSON (tuples become lists)."""
    return exc.key, {k: list(v) if isinstance(v, tuple) else v for k, v in exc.params.items()}
