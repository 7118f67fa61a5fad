"""Order search (SPEC §3): filters that round-trip through URL params; one counted, sorted page.

Everything is filtered, counted and sorted inside DuckDB; only the page itself becomes a DataFrame.
"""
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

import pandas as pd

from lib.db import Database, ready_copy, scalar
from lib.domain import User, order_visibility_sql, require
from lib.errors import InvalidInput
from lib.queries import main_line, search_lines
from lib.queries.category_mask import mask_of
from lib.replica import LINES_BY_SKU
from lib.queries.search_filters import (MAX_AMOUNT, MAX_LIMIT, MAX_TEXT, MAX_VALUES, PARAM_NAMES,  # noqa: F401
                                          SearchFilters, parse_amount, parse_date)

DEFAULT_SORT = "created_at:desc"
MAX_OFFSET = 10 ** 12

# sort field -> (SQL expression, join the expression needs). Only these names ever reach the SQL text.
SORTS = {
    "order_no": ("o.order_no", ""),
    "created_at": ("o.created_at", ""),
    "total": ("o.total", ""),
    "status": ("o.status", ""),
    "payment_status": ("o.payment_status", ""),
    "warehouse": ("o.warehouse", ""),
    "customer": ("sc.name", "LEFT JOIN customers sc ON sc.id = o.customer_id"),
    "rep": ("sr.username", "LEFT JOIN users sr ON sr.id = o.rep_id"),
}

RESULT_COLUMNS = ("order_no", "status", "payment_status", "customer", "total", "amount_paid", "created_at",
                  "rep", "rep_name", "assignee", "assignee_name", "warehouse", "id")


@dataclass
class SearchResult:
    total: int
    rows: pd.DataFrame


def parse_sort(sort: str | None) -> tuple[str, bool]:
    """'total:desc' -> ('total', True); refuses fields outside the allow-list."""
    name, _, direction = (sort or DEFAULT_SORT).strip().partition(":")
    if name not in SORTS or direction not in ("", "asc", "desc"):
        raise InvalidInput("search.bad_sort", value=str(sort)[:40], allowed=", ".join(SORTS))
    return name, direction == "desc"


# --- SQL ------------------------------------------------------------------------------------

def _in(column: str, values: list) -> tuple[str, list]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def _number_condition(cur, number: str) -> tuple[str, list]:
    """An existing exact number (index lookup) wins; otherwise the text is a prefix.

    The exact hit is passed on by id: DuckDB's top-N plan scans instead of using the order_no index.
    """
    variants = list(dict.fromkeys([number, number.upper()]))
    for variant in variants:
        order_id = scalar(cur, "SELECT id FROM orders WHERE order_no = ?", [variant])
        if order_id is not None:
            return "o.id = ?", [order_id]
    return "(" + " OR ".join("starts_with(o.order_no, ?)" for _ in variants) + ")", variants


def _lines_condition(sku_sql: str, params: list, lines: str = "order_lines") -> tuple[str, list]:
    """Orders having at least one line whose SKU is in the (small) set `sku_sql` — a semi-join over `lines` (the
    order lines, or in the analytics copy the same pairs sorted by SKU: lib.replica.LINES_BY_SKU)."""
    return f"o.id IN (SELECT l.order_id FROM {lines} l WHERE l.sku IN ({sku_sql}))", params


def line_filters(cur, f: SearchFilters) -> list[tuple[str, list]]:
    """(SQL of a small set of SKUs, its parameters) per filter on order lines; an order must match each.

    Categories are read from orders.category_mask instead (order_where) whenever they all have a bit."""
    sets = []
    if f.product:
        sets.append(_product_skus(cur, f.product))
    if f.category and mask_of(cur, f.category) is None:
        sets.append(_category_skus(f.category))
    return sets


def _product_skus(cur, text: str) -> tuple[str, list]:
    """The SKUs a product filter names: an exact SKU means that product only (PHN-1 is not PHN-10), as an exact
    order number means that order; else SKU prefix or product name contains (and the text as a SKU itself)."""
    exact = scalar(cur, "SELECT sku FROM products WHERE upper(sku) = upper(?) LIMIT 1", [text])
    if exact is not None:
        return "SELECT ?::VARCHAR", [exact]
    return ("SELECT sku FROM products WHERE starts_with(upper(sku), upper(?))"
            " OR strpos(lower(name), lower(?)) > 0 UNION ALL SELECT ?::VARCHAR", [text] * 3)


def _category_skus(categories: list[str]) -> tuple[str, list]:
    sql, params = _in("category", categories)
    return f"SELECT sku FROM products WHERE {sql}", params


def _main_line_condition(cur, f: SearchFilters) -> tuple[str, list]:
    """Orders whose main line (lib.queries.main_line: orders.main_sku) is of the main product and in one of the
    main categories."""
    sets = ([_product_skus(cur, f.main_product)] if f.main_product else []) + \
        ([_category_skus(f.main_category)] if f.main_category else [])
    return main_line.main_sku_in(sets)


def _joined(conds: list[tuple[str, list]]) -> tuple[str, list]:
    return " AND ".join(sql for sql, _ in conds), [p for _, params in conds for p in params]


def where_clause(cur, user: User, f: SearchFilters) -> tuple[str, list]:
    """The WHERE text over `orders o` and its parameters; a sales rep is always limited to their own."""
    where, params = order_where(cur, user, f)
    for sku_sql, sku_params in line_filters(cur, f):
        sql, more = _lines_condition(sku_sql, sku_params)
        where, params = f"{where} AND {sql}", params + more
    return where, params


def order_where(cur, user: User, f: SearchFilters) -> tuple[str, list]:
    """where_clause without the filters on order lines that line_filters hands to the faster paths."""
    visible = order_visibility_sql(user)
    conds: list[tuple[str, list]] = [] if visible == ("TRUE", []) else [visible]   # "TRUE" alone: see count()
    if f.number:
        conds.append(_number_condition(cur, f.number))
    if f.customer:
        conds.append(("o.customer_id IN (SELECT id FROM customers WHERE strpos(lower(name), lower(?)) > 0"
                      " OR lower(code) = lower(?))", [f.customer, f.customer]))
    if f.date_from:
        conds.append(("o.created_at >= ?", [datetime.combine(f.date_from, time.min)]))
    if f.date_to:
        conds.append(("o.created_at < ?", [datetime.combine(f.date_to + timedelta(days=1), time.min)]))
    for column, values in (("o.status", f.statuses), ("o.payment_status", f.payment),
                           ("o.warehouse", f.warehouse), ("o.source", f.source)):
        if values:
            conds.append(_in(column, values))
    for column, names in (("o.rep_id", f.rep), ("o.assignee_id", f.assignee)):
        if names:
            sql, params = _in("username", names)
            conds.append((f"{column} IN (SELECT id FROM users WHERE {sql})", params))
    mask = mask_of(cur, f.category) if f.category else None
    if mask is not None:   # an order with a line in any of the categories
        conds.append(("(o.category_mask & ?::UBIGINT) <> 0", [mask]))
    if f.min_total is not None:
        conds.append(("o.total >= ?", [f.min_total]))
    if f.max_total is not None:
        conds.append(("o.total <= ?", [f.max_total]))
    if f.void_history:
        conds.append(_history_condition("SELECT order_id FROM voids WHERE status = 'applied'", "applied_at",
                                         f.void_reason, f.voided_from, f.voided_to))
    if f.return_history:
        base, params = "SELECT order_id FROM return_notes WHERE TRUE", []
        if f.returned_product or f.returned_category:   # the note returned goods of this product / category
            lines, params = "SELECT rl.return_id FROM return_lines rl JOIN products p ON p.sku = rl.sku WHERE TRUE", []
            if f.returned_product:
                lines += " AND upper(rl.sku) = upper(?)"
                params.append(f.returned_product)
            if f.returned_category:
                sql, more = _in("p.category", f.returned_category)
                lines, params = f"{lines} AND {sql}", params + more
            base += f" AND id IN ({lines})"
        sql, more = _history_condition(base, "created_at", f.return_reason, f.returned_from, f.returned_to)
        conds.append((sql, params + more))
    if f.main_product or f.main_category:
        conds.append(_main_line_condition(cur, f))
    return _joined(conds) if conds else ("TRUE", [])


def _history_condition(base: str, at: str, reasons: list[str], day_from, day_to) -> tuple[str, list]:
    """Orders with a void / return record (`base`) of one of `reasons`, dated within the inclusive days."""
    sql, params = base, []
    if reasons:
        cond, params = _in("reason_code", reasons)
        sql += f" AND {cond}"
    if day_from:
        sql += f" AND {at} >= ?"
        params.append(datetime.combine(day_from, time.min))
    if day_to:
        sql += f" AND {at} < ?"
        params.append(datetime.combine(day_to + timedelta(days=1), time.min))
    return f"o.id IN ({sql})", params


_COLUMNS = """o.order_no, o.status, o.payment_status, c.name AS customer, o.total, o.amount_paid, o.created_at,
       r.username AS rep, r.display_name AS rep_name, a.username AS assignee, a.display_name AS assignee_name,
       o.warehouse, o.id"""
_NAMES = """LEFT JOIN customers c ON c.id = o.customer_id
        LEFT JOIN users r ON r.id = o.rep_id
        LEFT JOIN users a ON a.id = o.assignee_id"""


def _order_by(sort: str) -> tuple[str, str, str]:
    name, desc = parse_sort(sort)
    expr, join = SORTS[name]
    return expr, join, "DESC" if desc else "ASC"


def page_sql(where: str, sort: str) -> str:
    """One page in RESULT_COLUMNS order (params: where…, limit, offset).

    Only ids and sort keys are sorted; the page's other columns and names are fetched afterwards by
    primary key. (Filters on order lines go through lib.queries.search_lines instead.)
    """
    expr, join, direction = _order_by(sort)
    return f"""SELECT {_COLUMNS}
        FROM (SELECT o.id, {expr} AS sort_key FROM orders o {join} WHERE {where}
              ORDER BY sort_key {direction}, o.id {direction} LIMIT ? OFFSET ?) p
        JOIN orders o ON o.id = p.id
        {_NAMES}
        ORDER BY p.sort_key {direction}, p.id {direction}"""


def export_sql(where: str, sort: str) -> str:
    """Every match in RESULT_COLUMNS order, for streaming out in chunks."""
    expr, join, direction = _order_by(sort)
    return f"""SELECT {_COLUMNS} FROM orders o {join}
        {_NAMES}
        WHERE {where}
        ORDER BY {expr} {direction}, o.id {direction}"""


def count_matches(cur, where: str, params: list) -> int:
    return scalar(cur, f"SELECT count(*) FROM orders o WHERE {where}", params)


def search_orders(db: Database, user: User, filters: SearchFilters | None = None,
                  sort: str = DEFAULT_SORT, limit: int = 50, offset: int = 0) -> SearchResult:
    """One sorted page of the orders the user may see that match the filters, with the total count."""
    require(user, "order.view")
    filters = (filters or SearchFilters()).cleaned()
    parse_sort(sort)
    limit, offset = _check_page(limit, offset)
    with db.read() as cur:
        exact = _exact_number(cur, user, filters, offset) if filters.number else None
        if exact is not None:
            return exact
        cur.begin()  # count and page from one snapshot
        try:
            where, params = order_where(cur, user, filters)
            sets = line_filters(cur, filters)
            copy = ready_copy(db)
            if sets and copy is not None:   # PostgreSQL: which orders, and how many, from the copy; rows here
                with copy.read() as matching:
                    return _search_lines(matching, where, params, sets, sort, limit, offset, LINES_BY_SKU,
                                         rows_from=cur)
            if sets:
                return _search_lines(cur, where, params, sets, sort, limit, offset)
            counted = _count_in(copy, where, params) if copy is not None else None
            rows = cur.execute(page_sql(where, sort), params + [limit, offset]).df()
            total = _total(cur, rows, where, params, limit, offset, counted)
        finally:
            cur.rollback()
    return SearchResult(total=total, rows=rows)


def _exact_number(cur, user: User, f: SearchFilters, offset: int) -> SearchResult | None:
    """The result when the number exists exactly (one indexed statement for the order and its names), else None.

    The other filters still apply: an exact number outside them gives no rows, as the general search would.
    """
    rest, params = where_clause(cur, user, replace(f, number=""))
    for variant in dict.fromkeys([f.number, f.number.upper()]):
        rows = cur.execute(f"SELECT {_COLUMNS} FROM orders o {_NAMES} WHERE o.order_no = ? AND {rest}",
                           [variant] + params).df()
        if len(rows):
            return SearchResult(total=1, rows=rows if offset == 0 else rows.iloc[0:0])
        if scalar(cur, "SELECT count(*) FROM orders WHERE order_no = ?", [variant]):
            return SearchResult(total=0, rows=rows)
    return None


_BY_IDS = f"""SELECT {_COLUMNS}
    FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(range(?)) AS pos) p JOIN orders o ON o.id = p.id
    {_NAMES}
    ORDER BY p.pos"""


# PostgreSQL's form of _BY_IDS (no range() there).
_BY_IDS_POSTGRESQL = f"""SELECT {_COLUMNS} FROM orders o {_NAMES}
    WHERE o.id = ANY(?::BIGINT[]) ORDER BY array_position(?::BIGINT[], o.id)"""


def _rows_by_ids(cur, ids: list[int]):
    """The result rows of these orders, in this order, as they are now."""
    if getattr(cur, "backend", "duckdb") == "postgresql":
        return cur.execute(_BY_IDS_POSTGRESQL, [ids, ids]).df()
    return cur.execute(_BY_IDS, [ids, len(ids)]).df()


def _matches(where: str, sort: str) -> tuple[str, str]:
    """(a CTE `m` of the matching orders' ids and sort keys, collected once, the sort direction)."""
    expr, join, direction = _order_by(sort)
    return f"WITH m AS MATERIALIZED (SELECT o.id, {expr} AS sort_key FROM orders o {join} WHERE {where})", direction


def _counted_page_sql(where: str, sort: str) -> str:
    """page_sql plus a total_count column, from the matches collected once (for a few matching lines)."""
    matches, direction = _matches(where, sort)
    return f"""{matches}
        SELECT {_COLUMNS}, (SELECT count(*) FROM m) AS total_count
        FROM (SELECT id, sort_key FROM m ORDER BY sort_key {direction}, id {direction} LIMIT ? OFFSET ?) p
        JOIN orders o ON o.id = p.id
        {_NAMES}
        ORDER BY p.sort_key {direction}, p.id {direction}"""


def _counted_ids_sql(where: str, sort: str) -> str:
    """The page's order ids and the total count, as _counted_page_sql without the rows."""
    matches, direction = _matches(where, sort)
    return f"""{matches}
        SELECT id, (SELECT count(*) FROM m) AS total_count FROM m
        ORDER BY sort_key {direction}, id {direction} LIMIT ? OFFSET ?"""


def _counted_page(cur, where: str, params: list, sort: str, limit: int, offset: int) -> SearchResult:
    """The page and the total from one statement (_counted_page_sql)."""
    rows = cur.execute(_counted_page_sql(where, sort), params + [limit, offset]).df()
    total = int(rows["total_count"].iloc[0]) if len(rows) else _total(cur, rows, where, params, limit, offset)
    return SearchResult(total=total, rows=rows.drop(columns="total_count"))


def _search_lines(cur, where: str, params: list, sets: list, sort: str, limit: int, offset: int,
                  lines: str = "order_lines", rows_from=None) -> SearchResult:
    """Count and page when order lines are filtered too (see lib.queries.search_lines); `lines` as
    _lines_condition's. With `rows_from` (PostgreSQL, when `cur` is the analytics copy) `cur` only finds which
    orders match and how many; their rows are read from `rows_from`."""
    # A small semi-join: one statement counts and pages. PostgreSQL always takes it (its indexes on order_lines
    # serve it; the bitstrings below are DuckDB's). The matching orders are few: counted with the page, here.
    if getattr(cur, "backend", "duckdb") == "postgresql" or search_lines.few_skus(cur, sets):
        for sku_sql, sku_params in sets:
            sql, more = _lines_condition(sku_sql, sku_params, lines)
            where, params = f"{where} AND {sql}", params + more
        if rows_from is None:
            return _counted_page(cur, where, params, sort, limit, offset)
        found = cur.execute(_counted_ids_sql(where, sort), params + [limit, offset]).fetchall()
        ids = [int(i) for i, _ in found]
        total = int(found[0][1]) if found else _total(cur, ids, where, params, limit, offset)
        return SearchResult(total=total, rows=_rows_by_ids(rows_from, ids))
    bounds = search_lines.order_bounds(cur)
    total = search_lines.count(cur, where, params, sets, bounds) if bounds else 0
    ids = []
    if total > offset:
        ids = search_lines.page_ids(cur, where, params, sets, _order_by(sort), offset + limit, total, bounds)[offset:]
    return SearchResult(total=total, rows=_rows_by_ids(rows_from or cur, ids))


# Counting in the analytics copy while PostgreSQL reads the page: both wait outside Python (DuckDB and psycopg
# release the GIL), so a search takes the longer of the two, not their sum.
_COUNTING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="voiddesk-count")


def _count_in(copy, where: str, params: list) -> Future:
    def count() -> int:
        with copy.read() as counting:
            return int(count_matches(counting, where, params))
    return _COUNTING.submit(count)


def _total(cur, rows, where: str, params: list, limit: int, offset: int, counted: Future | None = None) -> int:
    """The number of matches: the page tells when it is the last one; else counted, in the analytics copy when
    there is one (`counted`, started beside the page: lib.db.ready_copy, PostgreSQL), else here."""
    if len(rows) < limit and (len(rows) or not offset):
        return offset + len(rows)  # the last page: nothing more to count
    if counted is not None:   # never fewer than the rows just read (the copy may be a moment behind)
        return max(counted.result(), offset + len(rows))
    return int(count_matches(cur, where, params))


def _check_page(limit, offset) -> tuple[int, int]:
    try:
        limit, offset = int(limit), int(offset)
    except (TypeError, ValueError):
        raise InvalidInput("search.bad_page", max=MAX_LIMIT) from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise InvalidInput("search.bad_page", max=MAX_LIMIT)
    if offset > MAX_OFFSET:   # DuckDB's OFFSET is a BIGINT: a larger one fails in the database
        raise InvalidInput("search.offset_too_large", max=f"{MAX_OFFSET:,}")
    return limit, offset
