"""Whether one order may be voided now, from one small read (issue #13): the order page's Void button.

The button needs only the refusal (if any) and whether the void would wait for approval; the full impact
preview (lib.queries.voids.preview_void, about seven queries) runs when the void dialog opens. Both apply
the service's own rule functions, so the button cannot say something the void would not.
"""
from lib.db import Database, rows_as_dicts
from lib.domain import User
from lib.queries.settings import read_rules
from lib.void_checks import actor_refusal, approval_reason, as_refusal, sight_refusal, state_refusal

_ORDER = """
    SELECT o.id, o.order_no, o.status, o.version, o.rep_id, o.total, o.void_requested
    FROM orders o WHERE o.order_no = ?"""


def void_eligibility(db: Database, user: User, order_no: str) -> dict:
    """{order_no, version, status, eligible, needs_approval, approval_reason, refusal, refusal_params}:
    the preview's verdict without its impact (void_ui.refusal_text words the refusal)."""
    order_no = (order_no or "").strip()
    with db.read() as cur:
        rules = read_rules(cur)   # kept between transactions (lib.db.memo): usually no query
        rows = rows_as_dicts(cur, _ORDER, [order_no])
    order = rows[0] if rows else None
    why = sight_refusal(user, order_no, order)
    if why is not None:
        order, appr = None, None
    else:
        why = actor_refusal(user, rules) or state_refusal(order, order["void_requested"])
        appr = approval_reason(user, order["total"], rules)
    key, params = as_refusal(why) if why is not None else (None, {})
    return {"order_no": order_no, "version": order and order["version"], "status": order and order["status"],
            "eligible": why is None, "needs_approval": appr is not None, "approval_reason": appr,
            "refusal": key, "refusal_params": params}
