"""orders.category_mask: one bit per category an order has lines in (category_bits; migration 004).

The search filters categories on it (a scan of one integer column instead of every order line). Every write of
order lines keeps it: a new order computes it from its SKUs, set-based loads add the bits of the lines they wrote.
"""
MAX_BITS = 64

# The mask of a list of SKUs (parameter: VARCHAR[]), for an INSERT of one order.
MASK_OF_SKUS = """(SELECT coalesce(bit_or(1::UBIGINT << b.bit), 0::UBIGINT)
    FROM products p JOIN category_bits b ON b.code = p.category WHERE p.sku = ANY(?::VARCHAR[]))"""


def add_line_bits(cur, lines_sql: str, params: list | None = None) -> None:
    """OR into each order's mask the categories of the lines `lines_sql` yields (columns order_id, sku)."""
    cur.execute(f"""UPDATE orders SET category_mask = orders.category_mask | m.mask
        FROM (SELECT l.order_id, bit_or(1::UBIGINT << b.bit) AS mask
              FROM ({lines_sql}) l JOIN products p ON p.sku = l.sku JOIN category_bits b ON b.code = p.category
              GROUP BY l.order_id) m
        WHERE orders.id = m.order_id""", params or [])


def every_category_has_a_bit(cur) -> bool:
    """Whether orders.category_mask tells every category apart (at most MAX_BITS categories have bits); if not,
    what counts by category reads the order lines."""
    return not cur.execute("SELECT count(*) FROM categories c WHERE NOT EXISTS"
                           " (SELECT 1 FROM category_bits b WHERE b.code = c.code)").fetchall()[0][0]


def mask_of(cur, codes: list[str]) -> int | None:
    """The bits of these categories, or None when one of them has no bit (then search through the lines)."""
    if not codes:
        return None
    bits = dict(cur.execute("SELECT code, bit FROM category_bits WHERE code = ANY(?)",
                            [list(codes)]).fetchall())
    if any(bits.get(code) is None for code in codes):
        return None   # unknown (matches nothing through the lines either) or beyond the 64th category
    mask = 0
    for code in codes:
        mask |= 1 << bits[code]
    return mask


def give_bit(cur, code: str) -> None:
    """Give a new category the lowest free bit (none when all 64 are taken: it is searched through the lines)."""
    used = {b for (b,) in cur.execute("SELECT bit FROM category_bits").fetchall()}
    free = next((b for b in range(MAX_BITS) if b not in used), None)
    if free is not None:
        cur.execute("INSERT INTO category_bits VALUES (?, ?)", [code, free])


# Orders whose mask differs from their lines' categories (for `check`).
DRIFT_SQL = """SELECT o.order_no FROM orders o LEFT JOIN (
        SELECT l.order_id, bit_or(1::UBIGINT << b.bit) AS mask
        FROM order_lines l JOIN products p ON p.sku = l.sku JOIN category_bits b ON b.code = p.category
        GROUP BY l.order_id) m ON m.order_id = o.id
    WHERE o.category_mask <> coalesce(m.mask, 0::UBIGINT)"""
