"""Imports on a PostgreSQL server (issue #14): the same import, run in a DuckDB workspace.

The file is read, typed, checked and turned into rows exactly as on a DuckDB file — by the same SQL — in an
in-memory DuckDB database with the app's own migrations (the workspace). The workspace holds what the checks read
of the shared database: users (no password hashes), warehouses, categories, reasons, rules, customers, products,
stock balances, and the orders the file names with their lines, copied in the import's own PostgreSQL
transaction. What the load then writes in the workspace is written to PostgreSQL in that same transaction:

- new rows: orders and voids keep the ids the load drew, which were reserved in PostgreSQL's own sequences
  (take_ids); the other tables' new rows take their ids from PostgreSQL;
- stock balances as differences (on hand, reserved, quarantine), so that what other users moved meanwhile stays,
  refused when less than nothing would be left available;
- orders the load changed (a lines import's totals, category masks and main SKUs), guarded by the version the
  workspace read, as every order write is.

A code, SKU or order number someone else took meanwhile is refused by PostgreSQL's unique keys, and an order
changed meanwhile by the version guard: the import then changes nothing, and says so.
"""
import shutil
import tempfile
from contextlib import contextmanager

import psycopg

from lib.db import Database, apply_migrations
from lib.errors import ConcurrentChange, RuleViolation
from lib.imports.base import ID_SOURCE
from lib.transfer import duck_to_pg, pg_to_duck

# Pulled whole, for every kind: what the checks and the load look things up in.
REFERENCE = ("users", "warehouses", "categories", "category_bits", "reasons", "settings", "counters", "customers",
             "products", "stock_balances")
WITHHELD = {"users": {"password_hash": "''"}}
# A table -> the columns that name a row (new rows are those whose key was not pulled).
KEYS = {"users": ("id",), "warehouses": ("code",), "categories": ("code",), "category_bits": ("code",),
        "reasons": ("kind", "code"), "settings": ("key",), "counters": ("name",), "customers": ("id",),
        "products": ("sku",), "stock_balances": ("warehouse", "sku"), "orders": ("id",), "order_lines": ("id",)}
# What a load may write: new rows in these tables ...
APPENDED = ("customers", "products", "orders", "order_lines", "voids", "stock_ledger", "order_status_history",
            "audit_log")
# Their ids drawn by the load itself, from blocks reserved in PostgreSQL's sequences (lib.imports.base.take_ids).
RESERVED = ("orders", "voids")
# ... and changes to pulled rows only here (orders guarded by version, stock balances as differences).
CHANGED = ("orders", "stock_balances")


@contextmanager
def workspace(db, write: bool):
    """(cursor of the workspace, the Workspace): inside the PostgreSQL transaction when `write`, else one
    read-only snapshot; the PostgreSQL side commits when the block ends without an error."""
    with (db.transaction() if write else db.read()) as pg:
        if not write:   # one snapshot; not READ ONLY: the workspace makes a temporary table (imp_numbers)
            pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        ws = Workspace(db, pg)
        token = ID_SOURCE.set(db.reserve_ids if write else None)
        try:
            with ws.duck.transaction() as cur:
                yield cur, ws
        finally:
            ID_SOURCE.reset(token)
            ws.duck.close()
            shutil.rmtree(ws.spill, ignore_errors=True)
            if not write:
                pg.execute("ROLLBACK")


class Workspace:
    def __init__(self, db, pg):
        self.db, self.pg = db, pg
        self.duck = Database(":memory:")
        self.spill = tempfile.mkdtemp(prefix="voiddesk-import-")   # where DuckDB puts what exceeds its memory limit
        apply_migrations(self.duck)
        with self.duck.read() as cur:
            cur.execute(f"SET temp_directory = '{self.spill}'")
            rows = cur.execute("SELECT table_name, column_name, data_type, column_default FROM"
                               " information_schema.columns WHERE table_schema = 'main'"
                               " ORDER BY table_name, ordinal_position").fetchall()
        self.columns: dict[str, list[tuple[str, str]]] = {}
        self.drawn: dict[str, str] = {}   # table -> the id column its sequence fills
        for table, column, kind, default in rows:
            self.columns.setdefault(table, []).append((column, kind))
            if default and str(default).startswith("nextval("):
                self.drawn[table] = column

    def pull(self, cur, order_numbers: str | None = None, with_lines: bool = False) -> None:
        """Copy in the reference tables, and the orders whose numbers the DuckDB query `order_numbers` yields
        (with their lines when `with_lines`)."""
        for table in REFERENCE:
            cur.execute(f"DELETE FROM {table}")   # the workspace's migrations filled some (reasons, rules)
            self._pull(cur, table)
        if order_numbers is not None:
            self.pg.execute("CREATE TEMP TABLE imp_numbers (order_no VARCHAR PRIMARY KEY) ON COMMIT DROP")
            duck_to_pg(cur, f"SELECT DISTINCT n AS order_no FROM ({order_numbers}) AS f(n) WHERE n IS NOT NULL", self.pg,
                       "imp_numbers", [("order_no", "VARCHAR")])
            self._pull(cur, "orders", "order_no IN (SELECT order_no FROM imp_numbers)")
            if with_lines:
                self._pull(cur, "order_lines", "order_id IN (SELECT o.id FROM orders o JOIN imp_numbers n"
                                               " ON n.order_no = o.order_no)")
        for table in KEYS:
            keys = ", ".join(KEYS[table])
            what = "*" if table in CHANGED else keys
            cur.execute(f"CREATE OR REPLACE TEMP TABLE pulled_{table} AS SELECT {what} FROM {table}")
            if table in self.drawn and table in APPENDED and table not in RESERVED:
                # the workspace's sequence past the ids pulled, so its new rows take no pulled row's key
                top = cur.execute(f"SELECT coalesce(max({self.drawn[table]}), 0) FROM {table}").fetchall()[0][0]
                if top:
                    cur.execute(f"SELECT max(nextval('{_sequence(cur, table)}')) FROM range(?)", [int(top)])

    def _pull(self, cur, table: str, where: str = "TRUE") -> None:
        columns = self.columns[table]
        select = ", ".join(WITHHELD.get(table, {}).get(c, c) for c, _ in columns)
        pg_to_duck(self.pg, f"SELECT {select} FROM {table} WHERE {where}", cur, table, columns)

    def write_back(self, cur) -> None:
        """What the load wrote in the workspace, written to PostgreSQL (see the module's docstring)."""
        try:
            for table in APPENDED:
                self._append(cur, table)
        except psycopg.errors.UniqueViolation as exc:   # taken by someone else since the workspace read it
            raise ConcurrentChange("import.taken_meanwhile") from exc
        self._stock(cur)
        self._orders(cur)

    def _append(self, cur, table: str) -> None:
        new = "TRUE"
        if table in KEYS:
            keys = ", ".join(KEYS[table])
            new = f"({keys}) NOT IN (SELECT {keys} FROM pulled_{table})"
        columns = self.columns[table]
        if table in self.drawn and table not in RESERVED:   # ids from PostgreSQL's sequence
            columns = [(c, k) for c, k in columns if c != self.drawn[table]]
        if cur.execute(f"SELECT count(*) FROM {table} WHERE {new}").fetchall()[0][0]:
            names = ", ".join(c for c, _ in columns)
            duck_to_pg(cur, f"SELECT {names} FROM {table} WHERE {new} ORDER BY {self.drawn.get(table, names)}",
                       self.pg, table, columns)

    def _stock(self, cur) -> None:
        """Balances as differences; refused if any pair the import touched would have less than nothing left."""
        delta = """SELECT w.warehouse, w.sku, w.on_hand - coalesce(p.on_hand, 0) AS on_hand,
                w.reserved - coalesce(p.reserved, 0) AS reserved, w.quarantine - coalesce(p.quarantine, 0) AS quarantine,
                w.updated_at
            FROM stock_balances w LEFT JOIN pulled_stock_balances p USING (warehouse, sku)
            WHERE p.sku IS NULL OR w.on_hand <> p.on_hand OR w.reserved <> p.reserved OR w.quarantine <> p.quarantine"""
        if not cur.execute(f"SELECT count(*) FROM ({delta})").fetchall()[0][0]:
            return
        self.pg.execute("CREATE TEMP TABLE imp_stock (warehouse VARCHAR, sku VARCHAR, on_hand BIGINT, reserved BIGINT,"
                        " quarantine BIGINT, updated_at TIMESTAMP) ON COMMIT DROP")
        duck_to_pg(cur, delta, self.pg, "imp_stock", self.columns["stock_balances"])
        self.pg.execute("""INSERT INTO stock_balances (warehouse, sku, on_hand, reserved, quarantine, updated_at)
            SELECT warehouse, sku, on_hand, reserved, quarantine, updated_at FROM imp_stock ORDER BY warehouse, sku
            ON CONFLICT (warehouse, sku) DO UPDATE SET on_hand = stock_balances.on_hand + excluded.on_hand,
                reserved = stock_balances.reserved + excluded.reserved,
                quarantine = stock_balances.quarantine + excluded.quarantine, updated_at = excluded.updated_at""")
        short = self.pg.execute("""SELECT b.warehouse, b.sku FROM stock_balances b JOIN imp_stock d
            ON d.warehouse = b.warehouse AND d.sku = b.sku
            WHERE b.on_hand - b.reserved < 0 OR b.reserved < 0 OR b.quarantine < 0 LIMIT 1""").fetchall()
        if short:   # others reserved or moved the same stock since the workspace read it
            raise RuleViolation("stock.would_go_negative", warehouse=short[0][0], sku=short[0][1])

    def _orders(self, cur) -> None:
        """Pulled orders the load changed: written whole, each only if nobody changed it since it was read."""
        columns = [(c, k) for c, k in self.columns["orders"] if c != "id"]
        changed = f"""SELECT w.id, {', '.join(f'w.{c}' for c, _ in columns)}, p.version AS read_version
            FROM orders w JOIN pulled_orders p USING (id)
            WHERE w IS DISTINCT FROM p"""
        n = cur.execute(f"SELECT count(*) FROM ({changed})").fetchall()[0][0]
        if not n:
            return
        self.pg.execute("CREATE TEMP TABLE imp_orders_changed AS SELECT * FROM orders WITH NO DATA")
        self.pg.execute("ALTER TABLE imp_orders_changed ADD COLUMN read_version INTEGER")
        duck_to_pg(cur, changed, self.pg, "imp_orders_changed",
                   [("id", "BIGINT"), *columns, ("read_version", "INTEGER")])
        sets = ", ".join(f"{c} = c.{c}" for c, _ in columns)
        written = self.pg.execute(f"UPDATE orders SET {sets} FROM imp_orders_changed c"
                                  " WHERE orders.id = c.id AND orders.version = c.read_version").fetchall()[0][0]
        self.pg.execute("DROP TABLE imp_orders_changed")
        if written != n:
            raise ConcurrentChange("import.changed_meanwhile")


def _sequence(cur, table: str) -> str:
    default = cur.execute("SELECT column_default FROM information_schema.columns WHERE table_name = ?"
                          " AND column_default LIKE 'nextval(%'", [table]).fetchall()[0][0]
    return str(default).split("'")[1]
