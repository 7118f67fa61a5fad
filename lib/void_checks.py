"""Who may void which order, whether it needs approval, who may decide or restore it (SPEC §4) — pure functions.

The verbs (lib.services.voids) and the impact preview (lib.queries.voids) share them, so the preview cannot drift;
a check returns the refusal (a VoidDeskError) or None, and never reads the database.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from lib.domain import VOIDABLE_STATUSES, Rules, User, may_see_order, refusal
from lib.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation, VoidDeskError
from lib.i18n import fmt_money

MAX_NOTE = 2000
MAX_BATCH = 5000
DECISIONS = ("approve", "reject")
ZERO = Decimal("0.00")

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


@dataclass
class Plan:
    """One order to void now, or to record a void request for."""
    order: dict
    reason: Reason
    note: str | None
    approval_reason: str | None = None   # set (and no request): a request waits for approval
    request: dict | None = None          # the pending request being approved: applied now
    decision_note: str | None = None

    @property
    def applies(self) -> bool:
        return self.request is not None or self.approval_reason is None


def approval_plan(order: dict, request: dict, decision_note: str | None) -> Plan:
    """The plan that applies an approved request with the reason as it read when requested."""
    reason = Reason(request["reason_code"], request["reason_label_en"], request["reason_label_zh"], False)
    return Plan(order, reason, request["note"], request["approval_reason"], request, decision_note)


# --- cleaning what was typed ----------------------------------------------------------------------------------

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


def clean_numbers(order_nos) -> list[str]:
    """Order numbers stripped, blanks dropped, duplicates removed (first kept); refuses none or too many."""
    seen = dict.fromkeys(str(n or "").strip() for n in (order_nos or []))
    seen.pop("", None)
    if not seen:
        raise InvalidInput("voids.batch_empty")
    if len(seen) > MAX_BATCH:
        raise InvalidInput("voids.batch_too_large", n=MAX_BATCH)
    return list(seen)


def clean_decision(decision) -> str:
    if decision not in DECISIONS:
        raise InvalidInput("voids.bad_decision", value=str(decision)[:40], allowed=", ".join(DECISIONS))
    return decision


# --- refusals ---------------------------------------------------------------------------------------------------

def reason_refusal(code: str | None, reason: Reason | None) -> InvalidInput | None:
    """Why the reason code (found as `reason`, or None) cannot be used, or None."""
    if not (code or "").strip():
        return InvalidInput("voids.reason_missing")
    if reason is None:
        return InvalidInput("voids.unknown_reason", code=code.strip())
    return None


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


def sight_refusal(user: User, order_no: str, order: dict | None) -> NotFound | None:
    """NotFound for an unknown order or one the user may not see (a sales rep: someone else's), else None."""
    return None if order is not None and may_see_order(user, order["rep_id"]) else not_found(order_no)


def decision_refusal(user: User, order_no: str, order: dict | None, request: dict | None,
                     decision: str) -> VoidDeskError | None:
    """Why this user cannot decide this order's request now, or None."""
    if sight_refusal(user, order_no, order) is not None:
        return not_found(order_no)
    if order["status"] == "archived":
        return RuleViolation("orders.archived_read_only", order_no=order_no)
    if request is None:
        return RuleViolation("voids.no_pending_request", order_no=order_no, status=f"status.{order['status']}")
    if request["requested_by"] == user.id:
        return RuleViolation("voids.own_request", order_no=order_no)
    if decision == "approve" and state_refusal(order, False) is not None:
        # The request stays open: the approver sees why and can reject it instead.
        return RuleViolation("voids.approve_not_voidable", order_no=order_no, status=f"status.{order['status']}")
    return None


def restore_refusal(order: dict, void: dict | None, rules: Rules, now: datetime) -> RuleViolation | None:
    """Why this voided order (with its applied void, or None) cannot be restored now, or None."""
    order_no = order["order_no"]
    if order["status"] != "voided":
        return RuleViolation("voids.restore_not_voided", order_no=order_no, status=f"status.{order['status']}")
    if void is None or void["status_before"] is None:
        return RuleViolation("voids.restore_no_void", order_no=order_no)
    hours = rules.restore_window_hours
    if now - void["applied_at"] > timedelta(hours=hours):
        return RuleViolation("voids.restore_window_passed", order_no=order_no, hours=hours,
                             applied_at=void["applied_at"].strftime("%Y-%m-%d %H:%M"))
    return None


def paid_refund_refusal(order_no: str, refunds: list[dict]) -> RuleViolation | None:
    """A refund of the void already paid out blocks the restore."""
    paid = [r for r in refunds if r["status"] == "paid"]
    if paid:
        return RuleViolation("voids.restore_refund_paid", order_no=order_no,
                             amount=fmt_money(sum(r["amount"] for r in paid)))
    return None


def short_stock_refusal(order_no: str, short: list) -> RuleViolation | None:
    """The restore's stock shortfalls (lib.services.stock.shortfalls), each SKU named, or None."""
    if short:
        return RuleViolation("voids.restore_short_stock", order_no=order_no, details="; ".join(
            f"{s.sku} ({s.warehouse}): needs {s.wanted}, available {s.available}" for s in short))
    return None


def owed(order: dict) -> Decimal:
    """The money a void gives back: paid in and not yet refunded."""
    return max(Decimal(str(order["amount_paid"] or 0)) - Decimal(str(order["amount_refunded"] or 0)), ZERO)


def not_found(order_no: str) -> NotFound:
    return NotFound("orders.not_found", order_no=order_no or "—")


# --- answers ----------------------------------------------------------------------------------------------------

def describe(key: str, params: dict, lang: str = "en") -> str:
    """A refusal or outcome (key + params) as a sentence in the language."""
    kind = PermissionDenied if key == "error.permission" else VoidDeskError
    return kind(key, **(params or {})).message(lang)


def as_refusal(exc: VoidDeskError) -> tuple[str, dict]:
    """(key, params) of a refusal, with params that survive JSON (tuples become lists)."""
    return exc.key, {k: list(v) if isinstance(v, tuple) else v for k, v in exc.params.items()}


def outcome(order_no: str, what: str, key: str, params: dict, *, refund=ZERO, released=None,
            void_id=None) -> dict:
    """The per-order result shape shared by every void verb."""
    return {"order_no": order_no, "outcome": what, "message": describe(key, params, "en"),
            "refund": str(Decimal(str(refund)).quantize(ZERO)), "released": released or [], "void_id": void_id,
            "message_key": key, "message_params": params}


def refused_result(order_no: str, exc) -> dict:
    """The per-order result of an order a batch left alone, with the reason."""
    key, params = as_refusal(exc)
    return outcome(order_no, "refused", key, params)


def counted(results: list[dict], counts: tuple[tuple[str, str], ...]) -> dict:
    """{results, name: how many results have the outcome, …} for (name, outcome) pairs."""
    return {"results": results, **{name: sum(r["outcome"] == what for r in results) for name, what in counts}}
