"""Stock, read side (SPEC §6): levels per warehouse and SKU with low-stock flags, one SKU's ledger."""
import pandas as pd

from lib.db import Database
from lib.domain import User, require
from lib.queries.filters import listed
from lib.queries.settings import read_rules

_LEVELS = """
    SELECT b.warehouse, b.sku, p.name AS product_name, p.category, b.on_hand, b.reserved,
           b.on_hand - b.reserved AS available, b.quarantine, b.on_hand - b.reserved < ? AS low
    FROM stock_balances b LEFT JOIN products p ON p.sku = b.sku
    WHERE {where}
    ORDER BY b.warehouse, b.sku"""

# Running balances are summed over the SKU's whole history per warehouse, then the newest rows are kept.
_LEDGER = """
    WITH rows AS (
        SELECT l.id, l.created_at, l.warehouse, l.kind, l.d_on_hand, l.d_reserved, l.d_quarantine,
               (sum(l.d_on_hand) OVER w)::BIGINT AS on_hand, (sum(l.d_reserved) OVER w)::BIGINT AS reserved,
               (sum(l.d_quarantine) OVER w)::BIGINT AS quarantine, l.ref_type, l.ref_id, l.order_no, l.actor_id, l.note
        FROM stock_ledger l
        WHERE l.sku = ? AND {where}
        WINDOW w AS (PARTITION BY l.warehouse ORDER BY l.created_at, l.id ROWS UNBOUNDED PRECEDING))
    SELECT rows.created_at, rows.warehouse, rows.kind, rows.d_on_hand, rows.d_reserved, rows.d_quarantine,
           rows.on_hand, rows.reserved, rows.on_hand - rows.reserved AS available, rows.quarantine,
           rows.ref_type, rows.ref_id, rows.order_no, r.return_no, u.display_name AS actor, rows.note
    FROM rows
    LEFT JOIN return_notes r ON rows.ref_type = 'return' AND r.id = rows.ref_id
    LEFT JOIN users u ON u.id = rows.actor_id
    ORDER BY rows.created_at DESC, rows.id DESC
    LIMIT ?"""


def stock_levels(db: Database, user: User, sku=None, warehouse=None, low_only: bool = False) -> pd.DataFrame:
    """Balances per warehouse and SKU; `sku` matches a SKU prefix or a product name (any case);
    `low` marks available stock below the low-stock level in the rules."""
    require(user, "stock.view")
    parts, params = ["TRUE"], []
    text = (sku or "").strip()
    if text:
        parts.append("(starts_with(b.sku, ?) OR p.name ILIKE '%' || ? || '%')")
        params += [text.upper(), text]
    warehouses = [w.upper() for w in listed(warehouse)]
    if warehouses:
        parts.append("b.warehouse = ANY(?)")
        params.append(warehouses)
    with db.read() as cur:
        level = read_rules(cur).low_stock_level
        if low_only:
            parts.append("b.on_hand - b.reserved < ?")
            params.append(level)
        return cur.execute(_LEVELS.format(where=" AND ".join(parts)), [level] + params).df()


def sku_ledger(db: Database, user: User, sku: str, warehouse=None, limit: int = 500) -> pd.DataFrame:
    """The newest `limit` ledger rows of one SKU with running balances per warehouse, what each refers to
    (order, return note) and who did it."""
    require(user, "stock.view")
    parts, params = ["TRUE"], [(sku or "").strip().upper()]
    warehouses = [w.upper() for w in listed(warehouse)]
    if warehouses:
        parts.append("l.warehouse = ANY(?)")
        params.append(warehouses)
    with db.read() as cur:
        return cur.execute(_LEDGER.format(where=" AND ".join(parts)),
                           params + [max(0, min(int(limit), 100_000))]).df()
