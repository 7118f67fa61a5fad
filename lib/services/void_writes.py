"""The writes of a void: one set-based statement per table, however many orders (SPEC §4, §12).

void_order (one order), void_batch (thousands) and approving share write_voids, so a single void and a 1,000-order
batch run the same few statements (SPEC §12: a batch in a couple of seconds, not 1,000 round trips); rejecting is
set-based too. Each runs in the caller's transaction after the checks (lib.void_checks) passed.
"""
from datetime import datetime


from lib.db import CONFLICT_ERRORS, insert_rows
from lib.domain import User
from lib.errors import ConcurrentChange, RuleViolation
from lib.i18n import fmt_money
from lib.services.audit import AUDIT_COLUMNS, to_json
from lib.services.notify import active_users, notify_many
from lib.void_checks import ZERO, Plan, approval_plan, outcome, owed


def write_voids(cur, actor: User, plans: list[Plan], *, now: datetime, changed_key: str,
                batch_id: str | None = None) -> list[dict]:
    """Apply the plans in the caller's transaction; one result dict per plan, in order."""
    if not plans:
        return []
    open_lines = None   # read by _release_stock, unless the claim brought them
    if len(plans) == 1 and not plans[0].request and getattr(cur, "backend", "duckdb") == "postgresql":
        void_ids, open_lines = _claim_and_record(cur, actor, plans[0], now, batch_id, changed_key)
    else:
        _claim_orders(cur, plans, now, changed_key)
        void_ids = _record_voids(cur, actor, plans, now, batch_id)
    applied = [p for p in plans if p.applies]
    released = _release_stock(cur, actor, applied, void_ids, now, open_lines)
    refunds = _create_refunds(cur, actor, applied, void_ids, now)
    _record_history(cur, actor, applied, now)
    _record_audit(cur, actor, plans, void_ids, released, refunds, now, batch_id)
    _notify(cur, actor, plans, refunds, now)
    return [_result(p, void_ids, released, refunds) for p in plans]


def write_approvals(cur, actor: User, ready: list[tuple[dict, dict]], note: str | None, *, now: datetime,
                    changed_key: str, batch_id: str | None = None) -> list[dict]:
    """Approve the (order, pending request) pairs: their voids take effect as write_voids applies them."""
    plans = [approval_plan(order, request, note) for order, request in ready]
    return [{**result, "decision": "approved"}
            for result in write_voids(cur, actor, plans, now=now, changed_key=changed_key, batch_id=batch_id)]


def batch_mark(batch_id: str | None, order: dict, reason: dict | None = None) -> dict:
    """What an audit entry of a batch carries besides its own change: the batch, the order's total and the reason,
    so the team chat can say one message for the whole batch (lib.services.chat_groups); {} outside a batch."""
    return {"batch": batch_id, "order_total": order["total"], **(reason or {})} if batch_id else {}


_REJECT = """UPDATE voids SET status = 'rejected', decided_by = ?, decided_at = ?, decision_note = ?
    WHERE id = ANY(?) AND status = 'pending_approval'"""
# In place and counted, as every order write (lib.services.orders.bump): stale screens notice the new version.
_BUMP_MANY = """UPDATE orders SET version = orders.version + 1, updated_at = ?, void_requested = FALSE
    FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::INTEGER[]) AS version) AS x WHERE orders.id = x.id AND orders.version = x.version"""


def write_rejections(cur, actor: User, ready: list[tuple[dict, dict]], note: str, *, now: datetime,
                     changed_key: str, batch_id: str | None = None) -> list[dict]:
    """Reject the requests: one statement per table whatever their number; the orders move on (version) only."""
    if not ready:
        return []
    rejected = cur.execute(_REJECT, [actor.id, now, note, [r["id"] for _, r in ready]]).fetchall()[0][0]
    bumped = cur.execute(_BUMP_MANY, [now, [o["id"] for o, _ in ready], [o["version"] for o, _ in ready]]
                         ).fetchall()[0][0]
    if rejected != len(ready) or bumped != len(ready):
        raise ConcurrentChange(changed_key, order_no=ready[0][0]["order_no"])
    insert_rows(cur, "audit_log", AUDIT_COLUMNS,
                [(now, actor.id, actor.username, "void.reject", "void", str(r["id"]), o["order_no"],
                  to_json({"status": "pending_approval"}),
                  to_json({"status": "rejected", "reason": r["reason_code"],
                           **batch_mark(batch_id, o, _reason_of(r))}),
                  note) for o, r in ready])
    told = [(u, "void.rejected", {"order_no": o["order_no"], "reason": r["reason_code"]}, o)
            for o, r in ready for u in (r["requested_by"], o["rep_id"])]
    notify_many(cur, active_users(cur), told, exclude=actor.id, now=now)
    return [{**outcome(o["order_no"], "rejected", "voids.result.rejected", {"order_no": o["order_no"]},
                       void_id=r["id"]), "decision": "rejected"} for o, r in ready]


def _reason_of(request: dict) -> dict:
    return {"reason": request["reason_code"], "reason_label_en": request["reason_label_en"],
            "reason_label_zh": request["reason_label_zh"]}


_SETS = """status = CASE WHEN {applies} THEN 'voided' ELSE orders.status END,
        voided_at = CASE WHEN {applies} THEN $now ELSE orders.voided_at END, version = orders.version + 1,
        updated_at = $now, void_requested = NOT {applies}"""
_OPEN = "orders.status IN ('pending', 'processing')"
# One order: a plain guarded UPDATE by id (an index lookup); many: joined to the lists of ids and versions.
# No RETURNING: on a table with an index DuckDB runs UPDATE … RETURNING as delete + insert, which costs about
# a millisecond more per statement and a larger commit. The row count tells whether every order was claimed.
_CLAIM_ONE = f"""UPDATE orders SET {_SETS.format(applies='$applies')}
    WHERE orders.id = $id AND orders.version = $version AND {_OPEN}"""
_CLAIM_MANY = f"""UPDATE orders SET {_SETS.format(applies='x.applies')}
    FROM (SELECT unnest($ids::BIGINT[]) AS id, unnest($versions::INTEGER[]) AS version,
                  unnest($applies::BOOLEAN[]) AS applies) AS x
    WHERE orders.id = x.id AND orders.version = x.version AND {_OPEN}"""


def _claim_orders(cur, plans: list[Plan], now: datetime, changed_key: str) -> None:
    """Void the orders (or only bump the version of those getting a request), guarded by version and status."""
    if len(plans) == 1:
        p = plans[0]
        sql, params = _CLAIM_ONE, {"now": now, "id": p.order["id"], "version": p.order["version"],
                                   "applies": p.applies}
    else:
        sql, params = _CLAIM_MANY, {"now": now, "ids": [p.order["id"] for p in plans],
                                    "versions": [p.order["version"] for p in plans],
                                    "applies": [p.applies for p in plans]}
    try:
        claimed = cur.execute(sql, params).fetchall()[0][0]
    except CONFLICT_ERRORS:
        if len(plans) == 1:
            raise ConcurrentChange(changed_key, order_no=plans[0].order["order_no"]) from None
        raise ConcurrentChange("voids.batch_conflict") from None
    if claimed != len(plans):
        raise ConcurrentChange(changed_key, order_no=_unclaimed(cur, plans, now))


# orders.void_requested from the voids table, for writers that record requests set-based (the seed, tests' fixtures).
_MARK_REQUESTS = """UPDATE orders SET void_requested = (orders.id IN (SELECT order_id FROM voids
                                                                 WHERE status = 'pending_approval'))
    WHERE orders.void_requested <> (orders.id IN (SELECT order_id FROM voids WHERE status = 'pending_approval'))"""


def mark_void_requests(cur) -> None:
    """Set orders.void_requested where a void request waits for approval, and clear it elsewhere."""
    cur.execute(_MARK_REQUESTS)


def _unclaimed(cur, plans: list[Plan], now: datetime) -> str:
    """The first order the claim left alone: claimed rows carry this transaction's `now`."""
    touched = {r[0] for r in cur.execute("SELECT id FROM orders WHERE id = ANY(?) AND updated_at = ?",
                                         [[p.order["id"] for p in plans], now]).fetchall()}
    return next((p.order["order_no"] for p in plans if p.order["id"] not in touched), plans[0].order["order_no"])


_VOID_COLUMNS = {"order_id": "BIGINT", "order_no": "VARCHAR", "status": "VARCHAR", "reason_code": "VARCHAR",
                 "reason_label_en": "VARCHAR", "reason_label_zh": "VARCHAR", "note": "VARCHAR",
                 "requested_by": "INTEGER", "requested_at": "TIMESTAMP", "needs_approval": "BOOLEAN",
                 "approval_reason": "VARCHAR", "applied_at": "TIMESTAMP", "status_before": "VARCHAR",
                 "amount_paid": "DECIMAL(14, 2)", "batch_id": "VARCHAR"}


def _record_voids(cur, actor: User, plans: list[Plan], now: datetime, batch_id) -> dict[int, int]:
    """order id -> void id: new rows for direct voids and requests, approved requests become 'applied'."""
    void_ids = {p.order["id"]: _approve_request(cur, actor, p, now) for p in plans if p.request}
    new = [_void_row(actor, p, now, batch_id) for p in plans if not p.request]
    if new:
        rows = insert_rows(cur, "voids", _VOID_COLUMNS, new, returning="id, order_id")
        void_ids.update({order_id: void_id for void_id, order_id in rows})
    return void_ids


def _void_row(actor: User, p: Plan, now: datetime, batch_id) -> tuple:
    """The voids row of a direct void or a request, in the order of _VOID_COLUMNS."""
    return (p.order["id"], p.order["order_no"], "applied" if p.applies else "pending_approval", p.reason.code,
            p.reason.label_en, p.reason.label_zh, p.note, actor.id, now, not p.applies, p.approval_reason,
            now if p.applies else None, p.order["status"] if p.applies else None, p.order["amount_paid"], batch_id)


# PostgreSQL, one new void or request: the guarded claim, the void record and the order's open lines (what the void
# releases) in one statement, two round trips fewer of the lone void's few (DuckDB has no UPDATE inside WITH: there
# they are _CLAIM_ONE, the INSERT and _release_stock's read). No row back: the claim found the order changed.
_CLAIM_AND_RECORD = (f"WITH claimed AS ({_CLAIM_ONE} RETURNING orders.id),"
                     f" recorded AS (INSERT INTO voids ({', '.join(_VOID_COLUMNS)})"
                     f" SELECT {', '.join(f'CAST($v{i} AS {kind})' for i, kind in enumerate(_VOID_COLUMNS.values()))}"
                     f" FROM claimed RETURNING id, order_id)"
                     f" SELECT r.id, r.order_id, l.sku, l.qty - l.qty_shipped FROM recorded r"
                     f" LEFT JOIN order_lines l ON l.order_id = r.order_id AND l.qty > l.qty_shipped")


def _claim_and_record(cur, actor: User, p: Plan, now: datetime, batch_id, changed_key: str
                      ) -> tuple[dict[int, int], list[tuple]]:
    """({order id: void id}, the order's open lines as (order id, sku, open qty))."""
    params = {"now": now, "id": p.order["id"], "version": p.order["version"], "applies": p.applies,
              **{f"v{i}": value for i, value in enumerate(_void_row(actor, p, now, batch_id))}}
    try:
        rows = cur.execute(_CLAIM_AND_RECORD, params).fetchall()
    except CONFLICT_ERRORS:
        raise ConcurrentChange(changed_key, order_no=p.order["order_no"]) from None
    if not rows:
        raise ConcurrentChange(changed_key, order_no=p.order["order_no"])
    return {rows[0][1]: rows[0][0]}, [(order_id, sku, qty) for _, order_id, sku, qty in rows if sku is not None]


def _approve_request(cur, actor: User, p: Plan, now: datetime) -> int:
    rows = cur.execute("UPDATE voids SET status = 'applied', decided_by = ?, decided_at = ?, decision_note = ?,"
                       " applied_at = ?, status_before = ?, amount_paid = ?"
                       " WHERE id = ? AND status = 'pending_approval' RETURNING id",
                       [actor.id, now, p.decision_note, now, p.order["status"], p.order["amount_paid"],
                        p.request["id"]]).fetchall()
    if not rows:
        raise ConcurrentChange("orders.changed_meanwhile", order_no=p.order["order_no"])
    return rows[0][0]


# In place (no RETURNING, see _CLAIM_ONE); pairs it left alone lacked the reserved stock and keep their old
# updated_at.
_RELEASE_BALANCES = """
    UPDATE stock_balances SET reserved = stock_balances.reserved - x.qty, updated_at = ?
    FROM (SELECT unnest(?::VARCHAR[]) AS warehouse, unnest(?::VARCHAR[]) AS sku, unnest(?::BIGINT[]) AS qty) AS x
    WHERE stock_balances.warehouse = x.warehouse AND stock_balances.sku = x.sku
      AND stock_balances.reserved >= x.qty"""
# DuckDB only, for a few pairs in one warehouse (one order's lines): the SKUs as a list of constants, which DuckDB
# filters by at the scan; `sku = ANY(?)` or a join costs it twice as much (1.6–1.8 ms against 0.8 at 5,000,000
# orders). Many pairs, or PostgreSQL: _RELEASE_BALANCES.
FEW_PAIRS = 16


def _release_in_one_warehouse(n: int) -> str:
    qty = "(?::BIGINT[])[list_position(?::VARCHAR[], sku)]"
    return f"""UPDATE stock_balances SET reserved = reserved - {qty}, updated_at = ?
    WHERE warehouse = ? AND sku IN ({', '.join('?' * n)}) AND reserved >= {qty}"""


_LEDGER_COLUMNS = {"created_at": "TIMESTAMP", "warehouse": "VARCHAR", "sku": "VARCHAR", "kind": "VARCHAR",
                   "d_reserved": "BIGINT", "ref_type": "VARCHAR", "ref_id": "BIGINT", "order_no": "VARCHAR",
                   "actor_id": "INTEGER"}


def _release_stock(cur, actor: User, plans: list[Plan], void_ids: dict, now: datetime,
                   open_lines: list[tuple] | None = None) -> dict[int, list]:
    """Release what the orders still hold reserved: one ledger row per order and SKU, balances per pair.
    `open_lines`: the orders' (order id, sku, open qty), when the caller has read them already."""
    if not plans:
        return {}
    by_id = {p.order["id"]: p.order for p in plans}
    ids = list(by_id)
    if open_lines is None:
        which, param = ("order_id = ?", ids[0]) if len(ids) == 1 else ("order_id = ANY(?)", ids)
        open_lines = cur.execute(f"SELECT order_id, sku, qty - qty_shipped FROM order_lines"
                                 f" WHERE {which} AND qty > qty_shipped", [param]).fetchall()
    # Summed here, not in SQL: a GROUP BY doubles the cost of planning this small query.
    open_qty: dict[tuple[int, str], int] = {}
    for order_id, sku, qty in sorted(open_lines):
        open_qty[(order_id, sku)] = open_qty.get((order_id, sku), 0) + int(qty)
    released: dict[int, list] = {}
    totals: dict[tuple[str, str], int] = {}
    for (order_id, sku), qty in open_qty.items():
        warehouse = by_id[order_id]["warehouse"]
        released.setdefault(order_id, []).append({"warehouse": warehouse, "sku": sku, "qty": qty})
        totals[(warehouse, sku)] = totals.get((warehouse, sku), 0) + qty
    if not totals:
        return released
    _release_balances(cur, totals, now)
    insert_rows(cur, "stock_ledger", _LEDGER_COLUMNS,
                [(now, r["warehouse"], r["sku"], "release", -r["qty"], "void", void_ids[oid], by_id[oid]["order_no"],
                  actor.id) for oid, rel in released.items() for r in rel])
    return released


def _release_balances(cur, totals: dict[tuple[str, str], int], now: datetime) -> None:
    """reserved -= qty per (warehouse, sku), never below zero; refuses naming a pair that lacks the stock."""
    pairs = list(totals)
    warehouses, skus, qtys = [w for w, _ in pairs], [s for _, s in pairs], [totals[p] for p in pairs]
    if len(set(warehouses)) == 1 and len(pairs) <= FEW_PAIRS and getattr(cur, "backend", "duckdb") == "duckdb":
        changed = cur.execute(_release_in_one_warehouse(len(pairs)),
                              [qtys, skus, now, warehouses[0], *skus, qtys, skus])
    else:
        changed = cur.execute(_RELEASE_BALANCES, [now, warehouses, skus, qtys])
    if changed.fetchall()[0][0] != len(pairs):
        done = set(cur.execute("SELECT warehouse, sku FROM stock_balances WHERE (warehouse, sku) IN"
                               " (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])) AND updated_at = ?", [warehouses, skus, now]).fetchall())
        warehouse, sku = next((p for p in pairs if p not in done), pairs[0])
        raise RuleViolation("stock.would_go_negative", warehouse=warehouse, sku=sku)


_REFUND_COLUMNS = {"order_id": "BIGINT", "order_no": "VARCHAR", "source": "VARCHAR", "source_id": "BIGINT",
                   "amount": "DECIMAL(14, 2)", "status": "VARCHAR", "created_at": "TIMESTAMP", "created_by": "INTEGER"}


def _create_refunds(cur, actor: User, plans: list[Plan], void_ids: dict, now: datetime) -> dict[int, tuple]:
    """order id -> (refund id, amount) for the orders with money to give back."""
    due = [(p.order, owed(p.order)) for p in plans if owed(p.order) > 0]
    if not due:
        return {}
    rows = insert_rows(cur, "refunds", _REFUND_COLUMNS,
                       [(o["id"], o["order_no"], "void", void_ids[o["id"]], a, "pending", now, actor.id) for o, a in due],
                       returning="id, order_id")
    amounts = {o["id"]: a for o, a in due}
    return {order_id: (refund_id, amounts[order_id]) for refund_id, order_id in rows}


_HISTORY_COLUMNS = {"order_id": "BIGINT", "from_status": "VARCHAR", "to_status": "VARCHAR", "by_user_id": "INTEGER",
                    "created_at": "TIMESTAMP", "note": "VARCHAR"}


def _record_history(cur, actor: User, plans: list[Plan], now: datetime) -> None:
    if plans:
        insert_rows(cur, "order_status_history", _HISTORY_COLUMNS,
                    [(p.order["id"], p.order["status"], "voided", actor.id, now, p.note) for p in plans])


def _record_audit(cur, actor: User, plans: list[Plan], void_ids, released, refunds, now: datetime,
                  batch_id: str | None) -> None:
    entries = []   # (action, entity_type, entity_id, order_no, before, after, note)
    for p in plans:
        o, vid = p.order, void_ids[p.order["id"]]
        reason = {"reason": p.reason.code, "reason_label_en": p.reason.label_en,
                  "reason_label_zh": p.reason.label_zh}
        mark = batch_mark(batch_id, o, reason)
        if not p.applies:
            entries.append(("void.request", "void", vid, o["order_no"], None,
                            {"status": "pending_approval", "approval_reason": p.approval_reason, **mark, **reason},
                            p.note))
            continue
        if p.request:
            entries.append(("void.approve", "void", vid, o["order_no"], {"status": "pending_approval"},
                            {"status": "applied", **mark}, p.decision_note))
        refund = refunds.get(o["id"], (None, ZERO))
        entries.append(("void.apply", "void", vid, o["order_no"], {"status": o["status"], "version": o["version"]},
                        {"status": "voided", **mark, **reason, "refund": refund[1],
                         "released": released.get(o["id"], [])}, p.note))
        if refund[0] is not None:
            entries.append(("refund.create", "refund", refund[0], o["order_no"], None,
                            {"amount": refund[1], "source": "void", "status": "pending", **mark}, None))
    insert_rows(cur, "audit_log", AUDIT_COLUMNS,
                [(now, actor.id, actor.username, a, e, str(i), n, to_json(b), to_json(af), note)
                 for a, e, i, n, b, af, note in entries])


def _notify(cur, actor: User, plans: list[Plan], refunds: dict, now: datetime) -> None:
    people = active_users(cur)
    role = lambda *roles: [u for u, p in people.items() if p["role"] in roles]  # noqa: E731
    approvers = [u for u in role("ops_lead") if u != actor.id] or role("admin")
    items = []
    for p in plans:
        o = p.order
        base = {"order_no": o["order_no"], "reason": p.reason.code}
        if not p.applies:
            items += [(u, "void.requested", {**base, "by": actor.display_name}, o) for u in approvers + [o["rep_id"]]]
            continue
        told = [p.request["requested_by"], o["rep_id"]] if p.request else [o["rep_id"]]
        items += [(u, "void.approved" if p.request else "void.applied", base, o) for u in told]
        if o["status"] == "processing":
            items += [(u, "void.applied", base, o) for u in role("warehouse")]
        if o["id"] in refunds:
            amount = {"order_no": o["order_no"], "amount": str(refunds[o["id"]][1]), "source": "void"}
            items += [(u, "refund.created", amount, o) for u in role("finance")]
    notify_many(cur, people, items, exclude=actor.id, now=now)


def _result(p: Plan, void_ids: dict, released: dict, refunds: dict) -> dict:
    o = p.order
    if not p.applies:
        key, params = "voids.result.pending", {"order_no": o["order_no"],
                                               "why": f"approval_reason.{p.approval_reason}"}
        return outcome(o["order_no"], "pending_approval", key, params, void_id=void_ids[o["id"]])
    gone = released.get(o["id"], [])
    amount = refunds.get(o["id"], (None, ZERO))[1]
    params = {"order_no": o["order_no"], "units": sum(r["qty"] for r in gone), "refund": fmt_money(amount)}
    return outcome(o["order_no"], "voided", "voids.result.voided", params, refund=amount, released=gone,
                   void_id=void_ids[o["id"]])
