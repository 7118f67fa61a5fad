"""Writes the simulated demo world (see `lib.seed.simulate`): reference data, orders, voids, returns, refunds.
The logs around them (ledger, history, audit, inbox) are in `lib.seed.write_logs`."""
from datetime import timedelta

import numpy as np
import pyarrow as pa

from lib.queries.main_line import ALL_LINES, set_main_skus
from lib.seed.arrow import MONEY, Ids, insert, numbers, take_ids, ts, words
from lib.seed.data import CATEGORIES, NOTES, RETURN_REASONS, USER_INDEX, USERS, VOID_REASONS, WAREHOUSES
from lib.seed.orders import DAY, NEVER, STATUSES
from lib.seed.returns import DISPOSITIONS
from lib.seed.voids import APPROVAL_REASONS, VOID_STATUSES
from lib.seed.write_logs import write_logs
from lib.services.void_writes import mark_void_requests

PAYMENTS = ("unpaid", "paid", "partially_refunded", "refunded")
RETURN_STATUSES = ("requested", "received", "inspected", "closed")
WH_CODES = tuple(w[0] for w in WAREHOUSES)
_ID_BLOCKS = (("orders", "seq_orders"), ("order_lines", "seq_order_lines"), ("voids", "seq_voids"),
              ("return_notes", "seq_return_notes"), ("refunds", "seq_refunds"), ("comments", "seq_comments"),
              ("customers", "seq_customers"))


def write_world(cur, w, hashes: list[str], say) -> dict[str, int]:
    """Insert everything inside the caller's transaction; return rows written per table."""
    counts = {"users": _write_users(cur, hashes, w.created)}
    users_audited = _audit_users(cur)
    user_ids = dict(cur.execute("SELECT username, id FROM users").fetchall())
    sizes = {"orders": len(w.o.t0), "order_lines": len(w.o.l_order), "voids": len(w.voids["order"]),
             "return_notes": len(w.notes["order"]), "refunds": len(w.refunds["order"]),
             "comments": len(w.comments["ts"]), "customers": len(w.customers.code)}
    first = {table: take_ids(cur, seq, sizes[table]) for table, seq in _ID_BLOCKS}
    days = pa.array([(w.start + timedelta(days=d)).strftime("%Y%m%d") for d in range((w.now - w.start_s) // DAY + 1)])
    ret_day = (w.notes["t_ret"] - w.start_s) // DAY
    ids = Ids(first, np.asarray([user_ids[u[0]] for u in USERS], np.int64),
              numbers("SO", days, w.o.day, w.o.seq), numbers("RT", days, ret_day, _day_seq(ret_day)))
    say("catalogue")
    counts.update(_write_catalogue(cur, w, ids))
    say("orders")
    counts["orders"] = _write_orders(cur, w, ids)
    say("lines")
    counts["order_lines"] = _write_lines(cur, w, ids)
    set_main_skus(cur, ALL_LINES)
    say("voids")
    counts["voids"] = _write_voids(cur, w, ids, _reason_labels(cur))
    mark_void_requests(cur)
    say("returns")
    counts["return_notes"], counts["return_lines"] = _write_returns(cur, w, ids, _reason_labels(cur))
    counts["refunds"] = _write_refunds(cur, w, ids)
    counts.update(write_logs(cur, w, ids, days, say))
    counts["audit_log"] += users_audited
    return counts


def _day_seq(day) -> np.ndarray:
    """1, 2, 3 … within each day of an ascending day array."""
    return np.arange(len(day)) - np.searchsorted(day, day) + 1


def _reason_labels(cur) -> dict:
    """Labels as the catalogue reads now; records keep them (SPEC §9)."""
    rows = cur.execute("SELECT kind, code, label_en, label_zh FROM reasons").fetchall()
    return {(k, c): (en, zh) for k, c, en, zh in rows}


def _write_users(cur, hashes, created) -> int:
    return insert(cur, "seed_users", {
        "username": [u[0] for u in USERS], "display_name": [u[2] for u in USERS], "role": [u[1] for u in USERS],
        "email": [f"{u[0]}@voiddesk.example" for u in USERS], "password_hash": hashes,
        "created_at": ts(np.full(len(USERS), created))},
        "INSERT INTO users (username, display_name, role, email, password_hash, created_at) SELECT * FROM seed_users")


def _audit_users(cur) -> int:
    """user.create entries: admin set up by the system, everyone else by admin (ids before the other logs')."""
    return cur.execute("""
        INSERT INTO audit_log (id, created_at, actor_id, actor_name, action, entity_type, entity_id, after)
        SELECT nextval('seq_audit_log'), u.created_at, CASE WHEN u.username <> 'admin' THEN a.id END,
            CASE WHEN u.username <> 'admin' THEN 'admin' ELSE 'system' END, 'user.create', 'user', u.id::VARCHAR,
            '{"role": "' || u.role || '", "username": "' || u.username || '"}'
        FROM users u, (SELECT id FROM users WHERE username = 'admin') a""").fetchall()[0][0]


def _write_catalogue(cur, w, ids: Ids) -> dict[str, int]:
    cur.executemany("INSERT INTO warehouses VALUES (?, ?, ?)", [list(x) for x in WAREHOUSES])
    cur.executemany("INSERT INTO categories VALUES (?, ?, ?, ?)",
                    [[c[0], c[2], c[3], 10 * (i + 1)] for i, c in enumerate(CATEGORIES)])
    cur.executemany("INSERT INTO category_bits VALUES (?, ?)", [[c[0], i] for i, c in enumerate(CATEGORIES)])
    cat, c = w.catalog, w.customers
    insert(cur, "seed_products", {"sku": cat.sku, "name": cat.name,
                                  "category": words(cat.cat, [x[0] for x in CATEGORIES]), "cents": cat.price},
           f"INSERT INTO products (sku, name, category, unit_price)"
           f" SELECT sku, name, category, {MONEY.format('cents')} FROM seed_products")
    insert(cur, "seed_customers", {"id": ids.of("customers", np.arange(len(c.code))), "code": c.code, "name": c.name,
                                   "city": c.city, "phone": c.phone, "created_at": ts(c.created_s)},
           "INSERT INTO customers (id, code, name, city, phone, created_at) SELECT * FROM seed_customers")
    return {"warehouses": len(WAREHOUSES), "categories": len(CATEGORIES), "products": len(cat.sku),
            "customers": len(c.code)}


def _latest(n: int, order, t) -> np.ndarray:
    """Per order, the latest of the given event times (0 when none)."""
    latest = np.zeros(n, np.int64)
    np.maximum.at(latest, order, t)
    return latest


def _touches(w) -> tuple[np.ndarray, np.ndarray]:
    """updated_at and version: every change to an order row moves both (status, payment, assignment, return,
    refund paid out)."""
    o, s = w.o, w.seen
    n = len(o.t0)
    out = w.refunds["t_paid"] < NEVER
    later_payment = np.where(o.paymode != 0, s["paid_at"], NEVER)
    events = [s[k] for k in ("proc", "ship", "comp", "arch", "void")] + [later_payment]
    updated = np.maximum.reduce([np.where(t < NEVER, t, 0) for t in events] + [o.t0])
    updated = np.maximum.reduce([updated, _latest(n, w.assigns["order"], w.assigns["ts"]),
                                 _latest(n, w.notes["order"], w.notes["t_ret"]),
                                 _latest(n, w.refunds["order"][out], w.refunds["t_paid"][out])])
    version = 1 + sum((t < NEVER).astype(np.int32) for t in events)
    for rows in (w.assigns["order"], w.notes["order"], w.refunds["order"][out]):
        version += np.bincount(rows, minlength=n).astype(np.int32)
    return updated, version


def _write_orders(cur, w, ids: Ids) -> int:
    o, s = w.o, w.seen
    updated, version = _touches(w)
    table = {"id": ids.of("orders", np.arange(len(o.t0))), "order_no": ids.order_no,
             "customer_id": ids.of("customers", o.cust), "rep_id": ids.users(o.rep),
             "assignee_id": ids.users(w.assignee), "warehouse": words(o.wh, WH_CODES),
             "status": words(s["status"], STATUSES), "payment_status": words(s["payment"], PAYMENTS),
             "total": o.total, "paid": s["paid"], "refunded": s["refunded"], "created_at": ts(o.t0),
             "updated_at": ts(updated), "shipped_at": ts(s["ship"]), "completed_at": ts(s["comp"]),
             "voided_at": ts(s["void"]), "archived_at": ts(s["arch"]),
             "before_archive": words(np.where(s["arch"] < NEVER, STATUSES.index("completed"), -1), STATUSES),
             "version": version, "category_mask": _category_masks(o)}
    return insert(cur, "seed_orders", table, f"""
        INSERT INTO orders (id, order_no, customer_id, rep_id, assignee_id, warehouse, status, payment_status, total,
            amount_paid, amount_refunded, created_at, updated_at, shipped_at, completed_at, voided_at, archived_at,
            status_before_archive, source, version, category_mask)
        SELECT id, order_no, customer_id, rep_id, assignee_id, warehouse, status, payment_status,
            {MONEY.format('total')}, {MONEY.format('paid')}, {MONEY.format('refunded')}, created_at, updated_at,
            shipped_at, completed_at, voided_at, archived_at, before_archive, 'demo', version, category_mask
        FROM seed_orders""")


def _category_masks(o) -> np.ndarray:
    """Per order, one bit per category it has lines in (a category's bit is its index)."""
    mask = np.zeros(len(o.t0), np.uint64)
    np.bitwise_or.at(mask, o.l_order, np.left_shift(np.uint64(1), o.l_cat.astype(np.uint64)))
    return mask


def _write_lines(cur, w, ids: Ids) -> int:
    o = w.o
    returned = np.zeros(len(o.l_order), np.int32)
    np.add.at(returned, w.lines["line"], w.lines["qty"])
    table = {"id": ids.of("order_lines", np.arange(len(o.l_order))), "order_id": ids.of("orders", o.l_order),
             "line_no": o.l_no, "sku": words(o.l_prod, w.catalog.sku), "qty": o.l_qty, "price": o.l_price,
             "shipped": np.where(w.seen["ship"][o.l_order] < NEVER, o.l_qty, 0), "returned": returned}
    return insert(cur, "seed_lines", table, f"""
        INSERT INTO order_lines (id, order_id, line_no, sku, qty, unit_price, qty_shipped, qty_returned)
        SELECT id, order_id, line_no, sku, qty, {MONEY.format('price')}, shipped, returned FROM seed_lines""")


def _reason_columns(labels, kind, codes, reason) -> dict:
    en = [labels.get((kind, c), (c, c))[0] for c in codes]
    zh = [labels.get((kind, c), (c, c))[1] for c in codes]
    return {"code": words(reason, codes), "en": words(reason, en), "zh": words(reason, zh)}


def _write_voids(cur, w, ids: Ids, labels) -> int:
    v = w.voids
    table = {"id": ids.of("voids", np.arange(len(v["order"]))), "order_id": ids.of("orders", v["order"]),
             "order_no": ids.order_nos(v["order"]), "status": words(v["status"], VOID_STATUSES),
             **_reason_columns(labels, "void", VOID_REASONS, v["reason"]), "note": words(v["note"], NOTES),
             "by_id": ids.users(v["by"]), "t_req": ts(v["t_req"]), "needs": v["appr"] > 0,
             "appr": words(np.where(v["appr"] > 0, v["appr"], -1), APPROVAL_REASONS),
             "decided_by": ids.users(v["decided_by"]), "t_dec": ts(v["t_dec"]),
             "decision_note": words(v["decision_note"], NOTES), "t_app": ts(v["t_app"]),
             "before": words(v["before"], STATUSES), "paid": v["paid"]}
    return insert(cur, "seed_voids", table, f"""
        INSERT INTO voids (id, order_id, order_no, status, reason_code, reason_label_en, reason_label_zh, note,
            requested_by, requested_at, needs_approval, approval_reason, decided_by, decided_at, decision_note,
            applied_at, status_before, amount_paid)
        SELECT id, order_id, order_no, status, code, en, zh, note, by_id, t_req, needs, appr, decided_by, t_dec,
            decision_note, t_app, before, {MONEY.format('paid')} FROM seed_voids""")


def _write_returns(cur, w, ids: Ids, labels) -> tuple[int, int]:
    r, ln = w.notes, w.lines
    status = np.select([r["t_close"] < NEVER, r["t_insp"] < NEVER, r["t_recv"] < NEVER], [3, 2, 1], 0)
    table = {"id": ids.of("return_notes", np.arange(len(r["order"]))), "return_no": ids.return_no,
             "order_id": ids.of("orders", r["order"]), "order_no": ids.order_nos(r["order"]),
             "status": words(status, RETURN_STATUSES), **_reason_columns(labels, "return", RETURN_REASONS, r["reason"]),
             "note": words(r["note"], NOTES), "wh": words(r["wh"], WH_CODES), "refund": r["refund"],
             "by_id": ids.users(r["by"]), "t_ret": ts(r["t_ret"]),
             "received_by": ids.users(np.where(r["t_recv"] < NEVER, USER_INDEX["warehouse"], -1)),
             "t_recv": ts(r["t_recv"]), "inspected_by": ids.users(np.where(r["t_insp"] < NEVER, r["inspector"], -1)),
             "t_insp": ts(r["t_insp"]), "t_close": ts(r["t_close"])}
    notes = insert(cur, "seed_returns", table, f"""
        INSERT INTO return_notes (id, return_no, order_id, order_no, status, reason_code, reason_label_en,
            reason_label_zh, note, warehouse, refund_amount, requested_by, created_at, received_by, received_at,
            inspected_by, inspected_at, closed_at)
        SELECT id, return_no, order_id, order_no, status, code, en, zh, note, wh, {MONEY.format('refund')}, by_id,
            t_ret, received_by, t_recv, inspected_by, t_insp, t_close FROM seed_returns""")
    lines = insert(cur, "seed_return_lines", {
        "return_id": ids.of("return_notes", ln["note"]), "order_line_id": ids.of("order_lines", ln["line"]),
        "sku": words(w.o.l_prod[ln["line"]], w.catalog.sku), "qty": ln["qty"], "price": w.o.l_price[ln["line"]],
        "disp": words(ln["disp"], DISPOSITIONS)}, f"""
        INSERT INTO return_lines (return_id, order_line_id, sku, qty, unit_price, disposition)
        SELECT return_id, order_line_id, sku, qty, {MONEY.format('price')}, disp FROM seed_return_lines""")
    return notes, lines


def _write_refunds(cur, w, ids: Ids) -> int:
    f = w.refunds
    paid = f["t_paid"] < NEVER
    source_id = np.where(f["source"] == 0, ids.of("voids", f["ref"]), ids.of("return_notes", f["ref"]))
    table = {"id": ids.of("refunds", np.arange(len(f["order"]))), "order_id": ids.of("orders", f["order"]),
             "order_no": ids.order_nos(f["order"]), "source": words(f["source"], ("void", "return")),
             "source_id": source_id, "amount": f["amount"], "status": words(paid, ("pending", "paid")),
             "t": ts(f["t"]), "by_id": ids.users(f["by"]), "t_paid": ts(f["t_paid"]),
             "paid_by": ids.users(np.where(paid, USER_INDEX["finance"], -1))}
    return insert(cur, "seed_refunds", table, f"""
        INSERT INTO refunds (id, order_id, order_no, source, source_id, amount, status, created_at, created_by,
            paid_at, paid_by, payment_ref)
        SELECT id, order_id, order_no, source, source_id, {MONEY.format('amount')}, status, t, by_id, t_paid, paid_by,
            CASE WHEN t_paid IS NOT NULL THEN 'PAY-' || strftime(t_paid, '%Y%m%d') || '-' || printf('%06d', id) END
        FROM seed_refunds""")
