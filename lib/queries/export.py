"""Export every order matching a search (not one page) as CSV or Excel, streamed in chunks (SPEC §3)."""
import csv
import io
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter

from lib.db import Database
from lib.domain import User, require
from lib.errors import InvalidInput
from lib.i18n import catalogue
from lib.queries.search import (DEFAULT_SORT, RESULT_COLUMNS, SearchFilters, count_matches, export_sql,
                                parse_sort, where_clause)

CHUNK_ROWS = 50_000
EXCEL_MAX_ROWS = 1_048_576 - 1          # Excel's sheet limit, less the header row
COLUMNS = tuple(c for c in RESULT_COLUMNS if c != "id")
# A cell starting with one of these is run as a formula by Excel / LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[float], None] | None


def neutralise(value):
    """Text that a spreadsheet would treat as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_sql(expr: str) -> str:
    """neutralise() in SQL, for files the database writes itself (COPY): `expr` is a text expression."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS)
    return f"CASE WHEN left({expr}, 1) IN ({starts}) THEN chr(39) || {expr} ELSE {expr} END"


def headers(lang: str | None) -> list[str]:
    """Column codes, or their labels (col.<name>) in `lang` where the catalogue has them."""
    if not lang:
        return list(COLUMNS)
    texts = catalogue(lang)
    return [texts.get(f"col.{c}") or catalogue("en").get(f"col.{c}") or c for c in COLUMNS]


def _chunks(db: Database, user: User, filters: SearchFilters | None, sort: str, progress: Progress,
            max_rows: int | None = None) -> Iterator[list[tuple]]:
    """Row tuples (COLUMNS order) of all matches, CHUNK_ROWS at a time, reporting progress 0…1."""
    require(user, "order.view")
    filters = (filters or SearchFilters()).cleaned()
    parse_sort(sort)
    with db.read() as cur:
        cur.begin()  # the count and the rows from one snapshot
        try:
            where, params = where_clause(cur, user, filters)
            total = count_matches(cur, where, params)
            if max_rows is not None and total > max_rows:
                raise InvalidInput("export.too_many_rows", n=total, max=max_rows)
            result = cur.execute(export_sql(where, sort), params)
            done = 0
            while rows := result.fetchmany(CHUNK_ROWS):
                done += len(rows)
                yield [row[:-1] for row in rows]  # drop id
                _report(progress, done / total if total else 1.0)
        finally:
            cur.rollback()
    _report(progress, 1.0)


def _report(progress: Progress, fraction: float) -> None:
    if progress is not None:
        progress(min(1.0, fraction))


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, Decimal)):
        return str(value)
    return str(neutralise(value))


def export_csv(db: Database, user: User, filters: SearchFilters | None = None, sort: str = DEFAULT_SORT,
               progress: Progress = None, lang: str | None = None) -> bytes:
    """All matching orders as UTF-8 CSV with a BOM, so Excel shows Chinese names correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(lang))
    for rows in _chunks(db, user, filters, sort, progress):
        writer.writerows([_csv_text(v) for v in row] for row in rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def export_excel(db: Database, user: User, filters: SearchFilters | None = None, sort: str = DEFAULT_SORT,
                 progress: Progress = None, lang: str | None = None) -> bytes:
    """All matching orders as one .xlsx sheet; refuses (InvalidInput) more rows than Excel holds."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("orders")
    bold = book.add_format({"bold": True})
    formats = {"money": book.add_format({"num_format": "#,##0.00"}),
               "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
    sheet.write_row(0, 0, headers(lang), bold)
    sheet.freeze_panes(1, 0)
    row_no = 1
    try:
        for rows in _chunks(db, user, filters, sort, progress, max_rows=EXCEL_MAX_ROWS):
            for row in rows:
                _write_row(sheet, row_no, row, formats)
                row_no += 1
    except InvalidInput:
        book.close()
        raise
    book.close()
    return out.getvalue()


def _write_row(sheet, row_no: int, row: tuple, formats: dict) -> None:
    for col, value in enumerate(row):
        if value is None:
            continue
        if isinstance(value, Decimal):
            sheet.write_number(row_no, col, float(value), formats["money"])
        elif isinstance(value, datetime):
            sheet.write_datetime(row_no, col, value, formats["time"])
        elif isinstance(value, (int, float)):
            sheet.write_number(row_no, col, value)
        else:
            sheet.write_string(row_no, col, neutralise(str(value)))
