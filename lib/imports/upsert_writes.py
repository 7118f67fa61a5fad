"""Writing what an upsert found (lib.imports.upsert) to the system of record: `target` is the import's own cursor on
a DuckDB file, the PostgreSQL transaction's on a server. A handful of set-based statements per kind, each guarded by
what the comparison read, as every order write is; cancelled orders go through the app's own void writes."""
from decimal import Decimal

from lib.db import insert_rows
from lib.errors import ConcurrentChange, RuleViolation
from lib.imports.base import Context, count
from lib.imports.upsert import CHUNK, PRODUCT_PRICE, customer_pairs
from lib.queries.void_load import load_orders
from lib.services.audit import AUDIT_COLUMNS, to_json
from lib.services.void_writes import write_voids
from lib.void_checks import Plan, Reason


def apply(cur, target, ctx: Context) -> dict[str, int]:
    """Write the updates imp_upsert found, in `target`'s transaction; rows written per table."""
    return {"customers": _apply_customers, "products": _apply_products, "stock": _apply_stock,
            "orders": _apply_orders}[ctx.kind](cur, target, ctx)


def _rows(cur, select: str) -> list[tuple]:
    return cur.execute(f"{select} FROM imp_known r JOIN imp_upsert u USING (_row) WHERE u.action = 'update'"
                       " ORDER BY r._row").fetchall()


def _update(target, table: str, keys: dict[str, str], values: dict[str, str], rows: list[tuple], sets: str, *,
            guard: str = "", params: list | None = None) -> int:
    """UPDATE `table` SET `sets` from lists x (keys then values, the columns of `rows`, with their SQL types): one
    statement however many rows, on DuckDB and PostgreSQL alike. `params` fill the placeholders of `sets`.
    Returns the rows changed."""
    lists = ", ".join(f"unnest(?::{kind}[]) AS {name}" for name, kind in {**keys, **values}.items())
    match = " AND ".join(f"{table}.{name} = x.{name}" for name in keys) + (f" AND {guard}" if guard else "")
    return count(target, f"UPDATE {table} SET {sets} FROM (SELECT {lists}) AS x WHERE {match}",
                 (params or []) + [list(c) for c in zip(*rows)])


def _assign(names) -> str:
    return ", ".join(f"{name} = x.{name}" for name in names)


def _audit(target, ctx: Context, action: str, entity_type: str, entries: list[tuple]) -> int:
    """entries: (entity_id, order_no, before dict, after dict), all at ctx.now by the importer."""
    if entries:
        insert_rows(target, "audit_log", AUDIT_COLUMNS,
                    [(ctx.now, ctx.actor.id, ctx.actor.username, action, entity_type, str(e), n, to_json(b),
                      to_json(a), ctx.note) for e, n, b, a in entries])
    return len(entries)


def _apply_customers(cur, target, ctx: Context) -> dict[str, int]:
    named = [(column, new, old) for column, (new, old) in
             zip(("name", "city", "phone"), (("customer_name_raw", "cur_name"), ("city_raw", "cur_city"),
                                             ("phone_raw", "cur_phone")))
             if (new, old) in customer_pairs(ctx)]
    rows = _rows(cur, "SELECT r.current_id, " + ", ".join(f"r.{new}, r.{old}" for _, new, old in named))
    if not rows:
        return {}
    written = _update(target, "customers", {"id": "INTEGER"}, {c: "VARCHAR" for c, _, _ in named},
                      [(r[0], *r[1::2]) for r in rows], _assign(c for c, _, _ in named))
    entries = [(r[0], None, _diff(named, r)[0], _diff(named, r)[1]) for r in rows]
    return {"customers": written, "audit_log": _audit(target, ctx, "customer.update", "customer", entries)}


def _diff(named, row) -> tuple[dict, dict]:
    """(before, after) of the fields that changed, from a row of (key, new, old, new, old, …)."""
    before, after = {}, {}
    for i, (column, _, _) in enumerate(named):
        new, old = row[1 + 2 * i], row[2 + 2 * i]
        if new != old:
            before[column], after[column] = _plain(old), _plain(new)
    return before, after


def _plain(value):
    return str(value) if value is not None and not isinstance(value, (str, int)) else value


def _apply_products(cur, target, ctx: Context) -> dict[str, int]:
    named = [("name", "product_name_raw", "cur_name"), ("category", "category_code", "cur_category"),
             ("unit_price", PRODUCT_PRICE, "cur_price")]
    rows = _rows(cur, "SELECT r.sku, " + ", ".join(f"{new}, r.{old}" for _, new, old in named))
    if not rows:
        return {}
    written = _update(target, "products", {"sku": "VARCHAR"},
                      {"name": "VARCHAR", "category": "VARCHAR", "unit_price": "DECIMAL(14,2)"},
                      [(r[0], *r[1::2]) for r in rows], _assign(("name", "category", "unit_price")))
    entries = [(r[0], None, *_diff(named, r)) for r in rows]
    return {"products": written, "audit_log": _audit(target, ctx, "product.update", "product", entries)}


def _apply_stock(cur, target, ctx: Context) -> dict[str, int]:
    """On hand (and quarantine) set to the file's through adjustments in the ledger, guarded by the balance the
    comparison read: someone else's movement meanwhile makes the import change nothing and say so."""
    quarantine = "coalesce(r.quarantine, r.cur_quarantine)" if "quarantine" in ctx.mapped else "r.cur_quarantine"
    rows = _rows(cur, f"""SELECT r.wh, r.sku, CAST(r.qty AS BIGINT) - r.cur_on_hand,
        CAST({quarantine} AS BIGINT) - r.cur_quarantine, r.cur_on_hand, r.cur_quarantine, r.cur_reserved""")
    if not rows:
        return {}
    written = _update(target, "stock_balances", {"warehouse": "VARCHAR", "sku": "VARCHAR"},
                      {"d_on": "BIGINT", "d_q": "BIGINT", "read_on": "BIGINT", "read_q": "BIGINT"},
                      [r[:6] for r in rows], "on_hand = stock_balances.on_hand + x.d_on,"
                      " quarantine = stock_balances.quarantine + x.d_q, updated_at = ?", params=[ctx.now],
                      guard="stock_balances.on_hand = x.read_on AND stock_balances.quarantine = x.read_q"
                            " AND stock_balances.on_hand + x.d_on >= stock_balances.reserved")
    if written != len(rows):
        raise ConcurrentChange("import.changed_meanwhile")
    insert_rows(target, "stock_ledger", _LEDGER_COLUMNS,
                [(ctx.now, w, s, "adjust", d_on, 0, d_q, "adjust", None, None, ctx.actor.id, ctx.note)
                 for w, s, d_on, d_q, *_ in rows])
    entries = [(f"{w}/{s}", None, {"on_hand": on, "reserved": res, "available": on - res, "quarantine": q},
                {"on_hand": on + d_on, "reserved": res, "available": on + d_on - res, "quarantine": q + d_q,
                 "d_on_hand": d_on, "d_quarantine": d_q}) for w, s, d_on, d_q, on, q, res in rows]
    return {"stock_balances": written, "stock_ledger": len(rows),
            "audit_log": _audit(target, ctx, "stock.adjust", "stock", entries)}


_LEDGER_COLUMNS = {"created_at": "TIMESTAMP", "warehouse": "VARCHAR", "sku": "VARCHAR", "kind": "VARCHAR",
                   "d_on_hand": "BIGINT", "d_reserved": "BIGINT", "d_quarantine": "BIGINT", "ref_type": "VARCHAR",
                   "ref_id": "BIGINT", "order_no": "VARCHAR", "actor_id": "INTEGER", "note": "VARCHAR"}
_HISTORY_COLUMNS = {"order_id": "BIGINT", "from_status": "VARCHAR", "to_status": "VARCHAR", "by_user_id": "INTEGER",
                    "created_at": "TIMESTAMP", "note": "VARCHAR"}


def _apply_orders(cur, target, ctx: Context) -> dict[str, int]:
    """Payments and ERP totals first, then orders moved on (shipping takes their stock), then orders cancelled in
    the ERP voided as the app voids them (write_voids); every order guarded by the version the comparison read."""
    changes = cur.execute("""SELECT id, order_no, version, here, status, pays, totals, paid, total, here_paid,
        here_total FROM imp_orders_cmp c JOIN imp_upsert u ON u._row = c.first_row WHERE u.action = 'update'
        ORDER BY id""").fetchall()
    written: dict[str, int] = {}
    versions = {c[0]: c[2] for c in changes}

    def add(counts: dict[str, int]) -> None:
        for table, n in counts.items():
            written[table] = written.get(table, 0) + n

    add(_rewrite(target, ctx, [c for c in changes if c[5] or c[6]], versions))
    add(_move_on(target, ctx, [c for c in changes if c[4] != "voided" and c[3] != c[4]], versions))
    add(_cancel(target, ctx, [c for c in changes if c[4] == "voided" and c[3] in ("pending", "processing")],
                versions))
    return written


def _bump(target, ctx: Context, rows: list[tuple], values: dict[str, str], data: list[tuple], versions: dict,
          sets: str, params: list | None = None) -> int:
    """Orders (rows of id, …) rewritten by `sets`, each only if nobody changed it since it was read (its version
    in `versions`, which moves on)."""
    written = _update(target, "orders", {"id": "BIGINT", "version": "INTEGER"}, values,
                      [(r[0], versions[r[0]], *d) for r, d in zip(rows, data)],
                      f"{sets}, version = orders.version + 1, updated_at = ?", params=(params or []) + [ctx.now])
    if written != len(rows):
        raise ConcurrentChange("import.changed_meanwhile")
    for r in rows:
        versions[r[0]] += 1
    return written


def _rewrite(target, ctx: Context, rows: list[tuple], versions: dict) -> dict[str, int]:
    if not rows:
        return {}
    values = [(paid if pays else here_paid, total if totals else here_total,
               "paid" if (paid if pays else here_paid) > 0 else "unpaid")
              for _, _, _, _, _, pays, totals, paid, total, here_paid, here_total in rows]
    written = _bump(target, ctx, rows, {"amount_paid": "DECIMAL(14,2)", "total": "DECIMAL(14,2)",
                                        "payment_status": "VARCHAR"}, values, versions,
                    _assign(("amount_paid", "total", "payment_status")))
    entries = [(r[0], r[1], {"amount_paid": str(r[9]), "total": str(r[10])},
                {"amount_paid": str(v[0]), "total": str(v[1]), "payment_status": v[2]}) for r, v in zip(rows, values)]
    return {"orders": written, "audit_log": _audit(target, ctx, "order.update", "order", entries)}


def _move_on(target, ctx: Context, rows: list[tuple], versions: dict) -> dict[str, int]:
    """pending → processing → shipped → completed as the ERP says, in one step each order; an order reaching
    shipped (or completed) from an open status ships its lines: on hand and reserved stock go down."""
    if not rows:
        return {}
    ships = [r for r in rows if r[3] in ("pending", "processing") and r[4] in ("shipped", "completed")]
    written = {"orders": _bump(
        target, ctx, rows, {"status": "VARCHAR", "ships": "BOOLEAN", "completes": "BOOLEAN"},
        [(r[4], r in ships, r[4] == "completed") for r in rows], versions,
        "status = x.status, shipped_at = CASE WHEN x.ships THEN ? ELSE orders.shipped_at END,"
        " completed_at = CASE WHEN x.completes THEN ? ELSE orders.completed_at END", params=[ctx.now, ctx.now])}
    if ships:
        written.update(_ship(target, ctx, ships))
    insert_rows(target, "order_status_history", _HISTORY_COLUMNS,
                [(r[0], r[3], r[4], ctx.actor.id, ctx.now, ctx.note) for r in rows])
    written["order_status_history"] = len(rows)
    written["audit_log"] = _audit(target, ctx, "order.status", "order",
                                  [(r[0], r[1], {"status": r[3]}, {"status": r[4]}) for r in rows])
    return written


def _ship(target, ctx: Context, ships: list[tuple]) -> dict[str, int]:
    ids = [r[0] for r in ships]
    lines = target.execute("""SELECT l.order_id, o.order_no, o.warehouse, l.sku, CAST(l.qty AS BIGINT)
        FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.order_id = ANY(?)
        ORDER BY l.order_id, l.line_no""", [ids]).fetchall()
    if not lines:
        return {}
    taken: dict[tuple[str, str], int] = {}
    for _, _, warehouse, sku, qty in lines:
        taken[(warehouse, sku)] = taken.get((warehouse, sku), 0) + qty
    pairs = sorted(taken)
    have = {(w, s): (on, res) for w, s, on, res in target.execute(
        "SELECT warehouse, sku, on_hand, reserved FROM stock_balances WHERE (warehouse, sku) IN"
        " (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))", [[w for w, _ in pairs], [s for _, s in pairs]]
    ).fetchall()}
    short = next((p for p in pairs if min(have.get(p, (0, 0))) < taken[p]), None)
    if short:   # shipped here before, or the stock moved: shipping would take more than is reserved
        raise RuleViolation("stock.would_go_negative", warehouse=short[0], sku=short[1])
    changed = _update(target, "stock_balances", {"warehouse": "VARCHAR", "sku": "VARCHAR"}, {"q": "BIGINT"},
                      [(w, s, taken[(w, s)]) for w, s in pairs], "on_hand = stock_balances.on_hand - x.q,"
                      " reserved = stock_balances.reserved - x.q, updated_at = ?", params=[ctx.now],
                      guard="stock_balances.reserved >= x.q AND stock_balances.on_hand >= x.q")
    if changed != len(pairs):
        raise ConcurrentChange("import.changed_meanwhile")
    insert_rows(target, "stock_ledger", _LEDGER_COLUMNS,
                [(ctx.now, w, s, "ship", -q, -q, 0, "order", order_id, order_no, ctx.actor.id, ctx.note)
                 for order_id, order_no, w, s, q in lines])
    shipped = count(target, "UPDATE order_lines SET qty_shipped = qty WHERE order_id = ANY(?)", [ids])
    return {"stock_balances": changed, "stock_ledger": len(lines), "order_lines": shipped}


def _cancel(target, ctx: Context, rows: list[tuple], versions: dict) -> dict[str, int]:
    """Orders cancelled in the ERP: voided here with the reason `imported`, by the app's own void writes."""
    if not rows:
        return {}
    found = target.execute("SELECT code, label_en, label_zh FROM reasons WHERE kind = 'void' AND code = 'imported'"
                           ).fetchall()[0]
    reason = Reason(found[0], found[1], found[2], False)
    orders = load_orders(target, [r[1] for r in rows])
    plans = []
    for r in rows:
        order = orders.get(r[1])
        if order is None or order["version"] != versions[r[0]] or order["status"] not in ("pending", "processing"):
            raise ConcurrentChange("import.changed_meanwhile")
        plans.append(Plan(order, reason, ctx.note))
    results = []
    for start in range(0, len(plans), CHUNK):
        results += write_voids(target, ctx.actor, plans[start:start + CHUNK], now=ctx.now,
                               changed_key="import.changed_meanwhile")
    refunds = sum(1 for r in results if Decimal(r["refund"]) > 0)
    return {"orders": len(plans), "voids": len(plans), "refunds": refunds, "order_status_history": len(plans),
            "stock_ledger": sum(len(r["released"]) for r in results), "audit_log": len(plans) + refunds}
