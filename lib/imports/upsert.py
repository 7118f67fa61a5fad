"""Incremental loads (`--mode upsert`, issue #15, SPEC §9): the nightly export of an ERP, loaded again and again.

A record already in the database (a customer by code, a product by SKU, a stock balance by warehouse and SKU, an
order by number) is compared with the file's row instead of refused:

- the same: **unchanged**, nothing written;
- different in what the ERP owns: **updated**, through the writes the app's own actions make — a stock balance
  through the ledger as an adjustment, an order cancelled in the ERP voided with the reason `imported` (stock
  released, a refund owed when it was paid, people told), an order the ERP moved on (processing, shipped,
  completed) moved the same way (shipping takes its stock), a changed payment or ERP total written with the
  order's version bumped; each with its audit entry;
- different in a way VoidDesk must not follow silently: a **conflict**, reported and left as it is — an order
  voided here that the ERP still shows open, one cancelled there but already shipped here, a status behind
  VoidDesk's, another customer, warehouse, date or other lines, on-hand stock below what open orders here reserve.

New records are inserted as in the default mode. Rows with a problem are rejected as always, and then nothing
loads. So a rerun of the same file finds every record unchanged and writes nothing.

The comparison runs in DuckDB over the staged rows (imp_rows) and the database's rows (on a PostgreSQL server:
the workspace's copy, read in the import's transaction); the changes are few next to the file, and are written to
the system of record (`target`: the same cursor on DuckDB, the PostgreSQL transaction's on a server) as a handful
of set-based statements, each guarded by what the comparison read, as every order write is.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from lib.db import insert_rows
from lib.errors import ConcurrentChange, InvalidInput, RuleViolation
from lib.imports.base import OPEN, SHIPPED, Context, count
from lib.imports.orders import file_total, has_lines
from lib.queries.void_load import load_orders, pending_requests
from lib.services.audit import AUDIT_COLUMNS, to_json
from lib.services.void_writes import write_voids
from lib.void_checks import Plan, Reason

MODES = ("insert", "upsert")
KINDS = ("customers", "products", "stock", "orders")
ACTIONS = ("inserted", "updated", "unchanged", "conflicts")
CHUNK = 250   # orders voided per round of statements (as lib.services.voids.void_batch)
_RANK = "CASE {0} WHEN 'pending' THEN 0 WHEN 'processing' THEN 1 WHEN 'shipped' THEN 2 WHEN 'completed' THEN 3 END"
CONFLICTS_DDL = ("CREATE OR REPLACE TEMP TABLE imp_conflicts (_row BIGINT, field VARCHAR, reason VARCHAR,"
                           " value VARCHAR, info VARCHAR, extra VARCHAR)")


def check_mode(mode: str | None, kind: str) -> str:
    """insert (new records only, the default) or upsert (for KINDS); anything else is refused."""
    text = str(mode or "insert").strip().lower()
    if text not in MODES:
        raise InvalidInput("import.bad_mode", value=text[:40], allowed=", ".join(MODES))
    if text == "upsert" and kind not in KINDS:
        raise InvalidInput("import.upsert_kinds", kind=kind, kinds=", ".join(KINDS))
    return text


@dataclass
class Outcome:
    """What an upsert does: records inserted, updated, unchanged, in conflict (left as they are)."""
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    written: dict[str, int] = field(default_factory=dict)   # rows written per table by the updates

    def as_dict(self, rejected: int) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "conflicts": self.conflicts, "rejected": rejected}


# --- comparing (DuckDB, over imp_rows) ---------------------------------------------------------------------------

def classify(cur, target, ctx: Context) -> Outcome:
    """imp_upsert (_row, action): one row per record (an order's first row) — insert | update | unchanged |
    conflict — and imp_conflicts, the reasons, in the shape of imp_rejects. `target` is read for what the
    workspace does not hold (void requests waiting for approval)."""
    cur.execute(CONFLICTS_DDL)
    {"customers": _customers, "products": _products, "stock": _stock, "orders": _orders}[ctx.kind](cur, ctx)
    if ctx.kind == "orders":
        _waiting_requests(cur, target)
    rows = dict(cur.execute("SELECT action, count(*) FROM imp_upsert GROUP BY action").fetchall())
    return Outcome(rows.get("insert", 0), rows.get("update", 0), rows.get("unchanged", 0), rows.get("conflict", 0))


def _changed(pairs: list[tuple[str, str]]) -> str:
    return " OR ".join(f"({new}) IS DISTINCT FROM ({old})" for new, old in pairs) or "FALSE"


def _customers(cur, ctx: Context) -> None:
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_upsert AS SELECT _row, CASE WHEN NOT in_db THEN 'insert'
        WHEN {_changed(_customer_pairs(ctx))} THEN 'update' ELSE 'unchanged' END AS action FROM imp_rows""")


def _customer_pairs(ctx: Context) -> list[tuple[str, str]]:
    return [(new, old) for name, new, old in (("customer_name", "customer_name_raw", "cur_name"),
                                              ("city", "city_raw", "cur_city"), ("phone", "phone_raw", "cur_phone"))
            if name in ctx.mapped]


def _products(cur, ctx: Context) -> None:
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_upsert AS SELECT _row, CASE WHEN NOT in_db THEN 'insert'
        WHEN {_changed(_PRODUCT_PAIRS)} THEN 'update' ELSE 'unchanged' END AS action FROM imp_rows""")


_PRODUCT_PRICE = "CAST(round(unit_price, 2) AS DECIMAL(14,2))"
_PRODUCT_PAIRS = [("product_name_raw", "cur_name"), ("category_code", "cur_category"), (_PRODUCT_PRICE, "cur_price")]


def _stock(cur, ctx: Context) -> None:
    quarantine = "coalesce(quarantine, cur_quarantine)" if "quarantine" in ctx.mapped else "cur_quarantine"
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_upsert AS SELECT _row, CASE WHEN NOT in_db THEN 'insert'
        WHEN qty = cur_on_hand AND {quarantine} = cur_quarantine THEN 'unchanged'
        WHEN qty < cur_reserved THEN 'conflict' ELSE 'update' END AS action FROM imp_rows""")
    cur.execute("""INSERT INTO imp_conflicts SELECT r._row, 'qty', 'import.conflict.below_reserved',
        CAST(CAST(r.qty AS BIGINT) AS VARCHAR), CAST(r.cur_reserved AS VARCHAR), r.wh || ' / ' || r.sku
        FROM imp_rows r JOIN imp_upsert u USING (_row) WHERE u.action = 'conflict'""")


# The file's order, as lib.imports.orders_load writes a new one (its paid amount, its total).
_FILE_PAID = ("CAST(round(coalesce(amount_paid, CASE WHEN payment_status = 'paid' THEN order_total ELSE 0 END), 2)"
              " AS DECIMAL(14,2))")
_LINE = "hash(sku, CAST({qty} AS INTEGER), CAST(round({price}, 2) AS DECIMAL(14,2)))"


def _orders(cur, ctx: Context) -> None:
    """imp_orders_cmp: per order of the file already in the database, the file's and the database's header, and
    what differs; then each order's action and its conflict, if any."""
    mapped = ctx.mapped
    lines = has_lines(ctx)
    file_lines = ("""SELECT order_no_raw AS order_no, count(*) AS n,
        sum(""" + _LINE.format(qty="qty", price="coalesce(unit_price, list_price)") + """) AS digest
        FROM imp_rows WHERE in_db AND sku IS NOT NULL GROUP BY 1""") if lines else \
        "SELECT NULL::VARCHAR AS order_no, 0 AS n, 0 AS digest WHERE FALSE"
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_orders_cmp AS
        WITH f AS (SELECT order_no_raw AS order_no, first_row, customer_id, rep_id, wh, status, created_at,
                          CAST(round(coalesce(order_total, 0), 2) AS DECIMAL(14,2)) AS total, {_FILE_PAID} AS paid
                   FROM imp_rows WHERE _row = first_row AND in_db),
             o AS (SELECT * FROM orders WHERE order_no IN (SELECT order_no FROM f)),
             fl AS ({file_lines}),
             ol AS (SELECT order_id, count(*) AS n, sum({_LINE.format(qty='qty', price='unit_price')}) AS digest
                    FROM order_lines WHERE order_id IN (SELECT id FROM o) GROUP BY 1)
        SELECT f.*, o.id, o.version, o.status AS here, o.status_before_archive, o.total AS here_total,
               o.amount_paid AS here_paid, o.amount_refunded,
               concat_ws(', ',
                   CASE WHEN {'customer_code' in mapped or 'customer_name' in mapped}
                        AND f.customer_id IS DISTINCT FROM o.customer_id THEN 'customer' END,
                   CASE WHEN f.wh IS DISTINCT FROM o.warehouse THEN 'warehouse' END,
                   CASE WHEN f.created_at IS DISTINCT FROM o.created_at THEN 'created_at' END,
                   CASE WHEN {'rep' in mapped} AND f.rep_id IS DISTINCT FROM o.rep_id THEN 'rep' END,
                   CASE WHEN {lines} AND (coalesce(fl.n, 0), coalesce(fl.digest, 0))
                        IS DISTINCT FROM (coalesce(ol.n, 0), coalesce(ol.digest, 0)) THEN 'sku' END) AS differs,
               {bool(mapped & {'payment_status', 'amount_paid'})} AND f.paid <> o.amount_paid AS pays,
               {file_total(ctx)} AND f.total <> o.total AS totals
        FROM f JOIN o ON o.order_no = f.order_no LEFT JOIN fl ON fl.order_no = f.order_no
        LEFT JOIN ol ON ol.order_id = o.id""")
    here, there = _RANK.format("here"), _RANK.format("status")
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_orders_cmp AS SELECT *,
        CASE WHEN here = 'archived' AND (status <> status_before_archive OR pays OR totals OR differs <> '')
                  THEN 'import.conflict.archived'
             WHEN here = 'archived' THEN NULL
             WHEN differs <> '' THEN 'import.conflict.differs'
             WHEN here = 'voided' AND status <> 'voided' THEN 'import.conflict.voided_here'
             WHEN status = 'voided' AND here IN {SHIPPED} THEN 'import.conflict.cancelled_after_shipping'
             WHEN status <> 'voided' AND here <> 'voided' AND {there} < {here} THEN 'import.conflict.status_behind'
             WHEN here <> 'voided' AND pays AND amount_refunded > 0 THEN 'import.conflict.refunded'
        END AS conflict,
        here <> 'archived' AND here <> 'voided' AND status <> here AS moves,
        here NOT IN ('archived', 'voided') AND (pays OR totals) AS rewrites
        FROM imp_orders_cmp""")
    # One line per field that differs (named in the reader's language by the report), else one per order.
    cur.execute("""INSERT INTO imp_conflicts SELECT first_row, unnest(string_split(differs, ', ')), conflict,
        order_no, NULL, NULL FROM imp_orders_cmp WHERE conflict = 'import.conflict.differs'""")
    cur.execute("""INSERT INTO imp_conflicts SELECT first_row, 'status', conflict, order_no, status, here
        FROM imp_orders_cmp WHERE conflict IS NOT NULL AND conflict <> 'import.conflict.differs'""")
    cur.execute("""CREATE OR REPLACE TEMP TABLE imp_upsert AS
        SELECT r.first_row AS _row, CASE WHEN NOT r.in_db THEN 'insert' WHEN c.conflict IS NOT NULL THEN 'conflict'
                                         WHEN c.moves OR c.rewrites THEN 'update' ELSE 'unchanged' END AS action
        FROM (SELECT DISTINCT first_row, in_db FROM imp_rows) r LEFT JOIN imp_orders_cmp c USING (first_row)""")


def _waiting_requests(cur, target) -> None:
    """An order with a void request waiting for approval is not cancelled or shipped by an import: the request
    is decided first (as the app refuses to ship it: orders.void_pending)."""
    ids = [r[0] for r in cur.execute("SELECT c.id FROM imp_orders_cmp c JOIN imp_upsert u ON u._row = c.first_row"
                                     " WHERE u.action = 'update' AND c.moves").fetchall()]
    waiting = list(pending_requests(target, ids)) if ids else []
    if not waiting:
        return
    cur.execute("CREATE OR REPLACE TEMP TABLE imp_waiting AS SELECT unnest(?::BIGINT[]) AS id", [waiting])
    cur.execute("""INSERT INTO imp_conflicts SELECT first_row, 'status', 'import.conflict.request_pending', order_no,
        status, here FROM imp_orders_cmp WHERE id IN (SELECT id FROM imp_waiting)""")
    cur.execute("""UPDATE imp_upsert SET action = 'conflict' WHERE _row IN
        (SELECT first_row FROM imp_orders_cmp WHERE id IN (SELECT id FROM imp_waiting))""")
    cur.execute("""UPDATE imp_orders_cmp SET conflict = 'import.conflict.request_pending'
        WHERE id IN (SELECT id FROM imp_waiting)""")


def keep_new(cur) -> None:
    """Only the new records are left for the kind's load (which inserts every row of imp_rows); the others move to
    imp_known, for the updates."""
    cur.execute("CREATE OR REPLACE TEMP TABLE imp_known AS SELECT * FROM imp_rows WHERE in_db")
    cur.execute("DELETE FROM imp_rows WHERE in_db")


# --- writing the updates (the system of record) ------------------------------------------------------------------

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
             if (new, old) in _customer_pairs(ctx)]
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
             ("unit_price", _PRODUCT_PRICE, "cur_price")]
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
