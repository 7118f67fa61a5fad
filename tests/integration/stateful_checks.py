"""Reading the database for the stateful and hammer tests: a fingerprint (to prove a refusal changed nothing),
a snapshot to compare with the model, and invariants that must hold whatever happened (issue #8)."""
from collections import Counter

from lib.db import rows_as_dicts
from lib.i18n import catalogue
from lib.queries.check import run_checks

# Every table a service call may write; a refused call must leave all of them as they were.
TABLES = ("orders", "order_lines", "voids", "refunds", "return_notes", "return_lines", "stock_balances",
          "stock_ledger", "audit_log", "notifications", "mail_outbox", "comments", "assignments",
          "order_status_history", "submissions", "counters", "settings", "reasons", "users")

# The history row each of these actions writes (every status change is one history row and one entry).
_HISTORY_ACTIONS = ("order.create", "order.status", "void.apply", "void.restore")
# Actions that happen at most once to one entity.
_ONCE_ACTIONS = ("void.request", "void.apply", "void.approve", "void.reject", "void.restore", "refund.create",
                 "refund.paid", "refund.cancel", "return.create", "return.receive", "return.inspect", "return.close")

# name -> SQL returning one `detail` per problem. These go beyond `check`: they tie the orders to their own
# history, the stock to the open orders, the money to the refunds.
INVARIANTS = {
    "status_matches_history": """
        SELECT o.order_no || ': status ' || o.status || ', history ends at ' || coalesce(h.to_status, '–') AS detail
        FROM orders o LEFT JOIN (SELECT order_id, (array_agg(to_status ORDER BY id DESC))[1] AS to_status
                                 FROM order_status_history GROUP BY order_id) h ON h.order_id = o.id
        WHERE h.to_status IS DISTINCT FROM o.status""",
    "payment_matches_refunds": """
        WITH f AS (SELECT order_id, sum(amount) FILTER (WHERE status = 'paid') AS paid FROM refunds GROUP BY order_id)
        SELECT o.order_no || ': ' || o.payment_status || ', paid in ' || o.amount_paid || ', refunded '
               || o.amount_refunded || ', refunds paid out ' || coalesce(f.paid, 0) AS detail
        FROM orders o LEFT JOIN f ON f.order_id = o.id
        WHERE o.amount_refunded <> coalesce(f.paid, 0) OR o.payment_status <> CASE
            WHEN o.amount_paid <= 0 THEN 'unpaid' WHEN o.amount_refunded >= o.amount_paid THEN 'refunded'
            WHEN o.amount_refunded > 0 THEN 'partially_refunded' ELSE 'paid' END""",
    "voids_match_status": """
        WITH v AS (SELECT order_id, count(*) FILTER (WHERE status = 'applied') AS applied,
                          count(*) FILTER (WHERE status = 'pending_approval') AS pending FROM voids GROUP BY order_id)
        SELECT o.order_no || ': ' || o.status || ' with ' || coalesce(v.applied, 0) || ' applied and '
               || coalesce(v.pending, 0) || ' pending void(s)' AS detail
        FROM orders o LEFT JOIN v ON v.order_id = o.id
        WHERE coalesce(v.applied, 0) <> CASE WHEN o.status = 'voided' OR (o.status = 'archived'
                                             AND o.status_before_archive = 'voided') THEN 1 ELSE 0 END
           OR coalesce(v.pending, 0) > CASE WHEN o.status IN ('pending', 'processing') THEN 1 ELSE 0 END""",
    "one_live_refund_per_source": """
        SELECT r.source || ' ' || r.source_id || ': ' || count(*) || ' refunds not cancelled' AS detail
        FROM refunds r WHERE r.status <> 'cancelled' GROUP BY r.source, r.source_id HAVING count(*) > 1
        UNION ALL
        SELECT 'void ' || v.id || ' of ' || v.order_no || ' is ' || v.status || ' but its refund is ' || r.status
        FROM voids v JOIN refunds r ON r.source = 'void' AND r.source_id = v.id
        WHERE (v.status = 'restored') <> (r.status = 'cancelled')
        UNION ALL
        SELECT 'return ' || n.return_no || ': refund ' || r.amount || ' vs note ' || n.refund_amount
        FROM return_notes n JOIN refunds r ON r.source = 'return' AND r.source_id = n.id
        WHERE r.amount <> n.refund_amount OR r.status = 'cancelled'""",
    "returned_matches_notes": """
        WITH r AS (SELECT order_line_id, sum(qty) AS qty FROM return_lines GROUP BY order_line_id)
        SELECT 'line ' || l.id || ' (' || l.sku || '): returned ' || l.qty_returned || ', on notes '
               || coalesce(r.qty, 0) || ', shipped ' || l.qty_shipped AS detail
        FROM order_lines l LEFT JOIN r ON r.order_line_id = l.id
        WHERE l.qty_returned <> coalesce(r.qty, 0) OR l.qty_returned > l.qty_shipped OR l.qty_shipped > l.qty""",
    "totals_match_lines": """
        SELECT o.order_no || ': total ' || o.total || ', lines ' || coalesce(sum(l.qty * l.unit_price), 0) AS detail
        FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id GROUP BY o.order_no, o.total
        HAVING o.total <> coalesce(sum(l.qty * l.unit_price), 0)""",
    "reserved_matches_open_orders": """
        WITH open AS (SELECT o.warehouse, l.sku, sum(l.qty - l.qty_shipped) AS qty
                      FROM orders o JOIN order_lines l ON l.order_id = o.id
                      WHERE o.status IN ('pending', 'processing') GROUP BY o.warehouse, l.sku)
        SELECT coalesce(b.warehouse, p.warehouse) || '/' || coalesce(b.sku, p.sku) || ': reserved '
               || coalesce(b.reserved, 0) || ', open orders hold ' || coalesce(p.qty, 0) AS detail
        FROM stock_balances b FULL OUTER JOIN open p ON p.warehouse = b.warehouse AND p.sku = b.sku
        WHERE coalesce(b.reserved, 0) <> coalesce(p.qty, 0)""",
    "shipped_matches_ledger": """
        WITH s AS (SELECT order_no, sum(d_on_hand) AS d FROM stock_ledger WHERE kind = 'ship' GROUP BY order_no),
             l AS (SELECT o.order_no, sum(l.qty_shipped) AS shipped FROM orders o JOIN order_lines l
                   ON l.order_id = o.id GROUP BY o.order_no)
        SELECT l.order_no || ': shipped ' || l.shipped || ', ledger ' || coalesce(-s.d, 0) AS detail
        FROM l LEFT JOIN s ON s.order_no = l.order_no WHERE l.shipped <> coalesce(-s.d, 0)""",
    "inspection_matches_ledger": """
        WITH want AS (SELECT n.id, n.return_no, n.status,
                             sum(rl.qty) FILTER (WHERE rl.disposition = 'restock') AS restock,
                             sum(rl.qty) FILTER (WHERE rl.disposition = 'repair') AS repair,
                             count(rl.disposition) AS decided
                      FROM return_notes n JOIN return_lines rl ON rl.return_id = n.id
                      GROUP BY n.id, n.return_no, n.status),
             got AS (SELECT ref_id, sum(d_on_hand) AS restock, sum(d_quarantine) AS repair, count(*) AS moves
                     FROM stock_ledger WHERE ref_type = 'return' GROUP BY ref_id)
        SELECT w.return_no || ' (' || w.status || '): restock ' || coalesce(w.restock, 0) || '/'
               || coalesce(g.restock, 0) || ', repair ' || coalesce(w.repair, 0) || '/' || coalesce(g.repair, 0)
               || ', ledger rows ' || coalesce(g.moves, 0) AS detail
        FROM want w LEFT JOIN got g ON g.ref_id = w.id
        WHERE coalesce(w.restock, 0) <> coalesce(g.restock, 0) OR coalesce(w.repair, 0) <> coalesce(g.repair, 0)
           OR (w.status IN ('inspected', 'closed')) <> (coalesce(g.moves, 0) > 0)
           OR (w.status IN ('inspected', 'closed')) <> (w.decided > 0)""",
    "one_entry_per_status_change": f"""
        WITH h AS (SELECT order_id, count(*) AS n FROM order_status_history GROUP BY order_id),
             a AS (SELECT order_no, count(*) AS n FROM audit_log
                   WHERE action IN ({', '.join(repr(a) for a in _HISTORY_ACTIONS)}) GROUP BY order_no)
        SELECT o.order_no || ': ' || coalesce(h.n, 0) || ' status changes, ' || coalesce(a.n, 0)
               || ' audit entries for them' AS detail
        FROM orders o LEFT JOIN h ON h.order_id = o.id LEFT JOIN a ON a.order_no = o.order_no
        WHERE coalesce(h.n, 0) <> coalesce(a.n, 0)
        UNION ALL
        SELECT action || ' on ' || entity_type || ' ' || entity_id || ' recorded ' || count(*) || ' times'
        FROM audit_log WHERE action IN ({', '.join(repr(a) for a in _ONCE_ACTIONS)})
        GROUP BY action, entity_type, entity_id HAVING count(*) > 1""",
}


def fingerprint(db) -> dict[str, tuple]:
    """table -> (row count, hash of all rows): equal fingerprints mean nothing was written."""
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*), sum(hash(t))::HUGEINT FROM {t} t" for t in TABLES)
    with db.read() as cur:
        return {t: (n, h) for t, n, h in cur.execute(sql).fetchall()}


def problems(db) -> list[str]:
    """Every broken invariant, `check`'s (run as the CLI runs it) and ours, as readable lines; empty when all hold."""
    found = [f"check {p['check']}: {p['examples']}" for p in run_checks(db)["problems"]]
    with db.read() as cur:   # one statement each: a UNION of them all plans slower than the sixteen run
        for name, sql in INVARIANTS.items():
            found += [f"{name}: {r[0]}" for r in cur.execute(f"{sql} LIMIT 10").fetchall()]
    return found


def snapshot(db) -> dict:
    """What the model predicts, read from the database (same shape as stateful_model.World.snapshot)."""
    with db.read() as cur:
        orders = {r["order_no"]: {k: r[k] for k in ("status", "payment_status", "amount_paid", "amount_refunded",
                                                    "version", "total", "rep", "assignee")} | {"lines": {}}
                  for r in rows_as_dicts(cur, "SELECT o.*, r.username AS rep, a.username AS assignee FROM orders o"
                                              " LEFT JOIN users r ON r.id = o.rep_id"
                                              " LEFT JOIN users a ON a.id = o.assignee_id")}
        for no, sku, qty, shipped, returned in cur.execute(
                "SELECT o.order_no, l.sku, l.qty, l.qty_shipped, l.qty_returned FROM order_lines l"
                " JOIN orders o ON o.id = l.order_id").fetchall():
            orders[no]["lines"][sku] = (qty, shipped, returned)
        voids: dict[str, list] = {}
        for no, status in cur.execute("SELECT order_no, status FROM voids ORDER BY id").fetchall():
            voids.setdefault(no, []).append(status)
        refunds = {r[0]: tuple(r[1:]) for r in cur.execute(
            "SELECT id, order_no, source, amount, status FROM refunds").fetchall()}
        notes = {}
        for no, order_no, status, warehouse, sku, qty in cur.execute(
                "SELECT n.return_no, n.order_no, n.status, n.warehouse, l.sku, l.qty FROM return_notes n"
                " JOIN return_lines l ON l.return_id = n.id").fetchall():
            notes.setdefault(no, (order_no, status, warehouse, {}))[3][sku] = qty
        stock = {(w, s): (on, res, q) for w, s, on, res, q in cur.execute(
            "SELECT warehouse, sku, on_hand, reserved, quarantine FROM stock_balances").fetchall()
            if (on, res, q) != (0, 0, 0)}
        audit = Counter(dict(cur.execute("SELECT action, count(*) FROM audit_log GROUP BY action").fetchall()))
    return {"orders": orders, "voids": voids, "refunds": refunds, "notes": notes, "stock": stock, "audit": audit}


def lookup(db, sql: str, params) -> int:
    """One id the database chose (of a void's refund, a return note…)."""
    with db.read() as cur:
        return cur.execute(sql, params).fetchall()[0][0]


def assert_readable(exc) -> None:
    """A refusal says why in both languages: its key is in both catalogues and every {placeholder} is filled."""
    for lang in ("en", "zh"):
        assert exc.key in catalogue(lang), f"{exc.key} missing from {lang}.json"
        text = exc.message(lang)
        assert text and "{" not in text, f"{exc.key} in {lang}: {text!r}"


def audit_counts(db, actions) -> Counter:
    """(order_no, action) -> audit entries, for the actions."""
    with db.read() as cur:
        return Counter({(no, a): n for no, a, n in cur.execute(
            "SELECT order_no, action, count(*) FROM audit_log WHERE action = ANY(?) GROUP BY order_no, action",
            [list(actions)]).fetchall()})


def versions(db) -> dict[str, int]:
    with db.read() as cur:
        return dict(cur.execute("SELECT order_no, version FROM orders").fetchall())


def money_and_goods(db) -> dict:
    """Refunds owed (not cancelled) and paid out, and units on return notes, over the whole database."""
    with db.read() as cur:
        owed, paid = cur.execute("SELECT coalesce(sum(amount) FILTER (WHERE status <> 'cancelled'), 0),"
                                 " coalesce(sum(amount) FILTER (WHERE status = 'paid'), 0) FROM refunds").fetchall()[0]
        units = cur.execute("SELECT coalesce(sum(qty_returned), 0) FROM order_lines").fetchall()[0][0]
    return {"owed": owed, "paid": paid, "returned": units}
