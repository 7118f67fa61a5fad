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
of set-based statements, each guarded by what the comparison read, as every order write is (lib.imports.upsert_writes).
"""
from dataclasses import dataclass, field

from lib.errors import InvalidInput
from lib.imports.base import SHIPPED, Context
from lib.imports.orders import file_total, has_lines
from lib.queries.void_load import pending_requests

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
        WHEN {_changed(customer_pairs(ctx))} THEN 'update' ELSE 'unchanged' END AS action FROM imp_rows""")


def customer_pairs(ctx: Context) -> list[tuple[str, str]]:
    return [(new, old) for name, new, old in (("customer_name", "customer_name_raw", "cur_name"),
                                              ("city", "city_raw", "cur_city"), ("phone", "phone_raw", "cur_phone"))
            if name in ctx.mapped]


def _products(cur, ctx: Context) -> None:
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_upsert AS SELECT _row, CASE WHEN NOT in_db THEN 'insert'
        WHEN {_changed(_PRODUCT_PAIRS)} THEN 'update' ELSE 'unchanged' END AS action FROM imp_rows""")


PRODUCT_PRICE = "CAST(round(unit_price, 2) AS DECIMAL(14,2))"
_PRODUCT_PAIRS = [("product_name_raw", "cur_name"), ("category_code", "cur_category"), (PRODUCT_PRICE, "cur_price")]


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
