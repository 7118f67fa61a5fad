"""Reference data for pickers: warehouses, categories, customers, products with live available stock."""
import pandas as pd

from lib.db import Database, rows_as_dicts


def warehouses(db: Database, lang: str) -> dict[str, str]:
    """code -> name in the language."""
    name = "name_zh" if lang == "zh" else "name_en"
    with db.read() as cur:
        return dict(cur.execute(f"SELECT code, {name} FROM warehouses ORDER BY code").fetchall())


def categories(db: Database, lang: str) -> dict[str, str]:
    name = "name_zh" if lang == "zh" else "name_en"
    with db.read() as cur:
        return dict(cur.execute(f"SELECT code, {name} FROM categories ORDER BY sort_order, code").fetchall())


def find_customers(db: Database, text: str, limit: int = 50) -> list[dict]:
    """Customers whose name or code contains `text` (case-insensitive), best matches first."""
    text = (text or "").strip()
    with db.read() as cur:
        return rows_as_dicts(
            cur, "SELECT code, name, city FROM customers"
                 " WHERE ? = '' OR name ILIKE '%' || ? || '%' OR code ILIKE ? || '%'"
                 " ORDER BY NOT starts_with(lower(name), lower(?)), name LIMIT ?",
            [text, text, text, text, limit])


def products_with_stock(db: Database, warehouse: str) -> pd.DataFrame:
    """Active products with available (on hand − reserved) stock in one warehouse."""
    with db.read() as cur:
        return cur.execute(
            "SELECT p.sku, p.name, p.category, p.unit_price,"
            " coalesce(b.on_hand - b.reserved, 0) AS available"
            " FROM products p LEFT JOIN stock_balances b ON b.sku = p.sku AND b.warehouse = ?"
            " WHERE p.active ORDER BY p.sku", [warehouse]).df()


def users_by_role(db: Database, roles: tuple[str, ...]) -> list[dict]:
    """Active users with one of the roles: username, display name, role."""
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT username, display_name, role FROM users"
                                  " WHERE active AND role = ANY(?) ORDER BY display_name", [list(roles)])


def reason_labels(db: Database, lang: str) -> dict[tuple[str, str], str]:
    """(kind, code) -> current label, retired reasons included (history keeps using them)."""
    column = "label_zh" if lang == "zh" else "label_en"
    with db.read() as cur:
        return {(k, c): text for k, c, text in cur.execute(f"SELECT kind, code, {column} FROM reasons").fetchall()}
