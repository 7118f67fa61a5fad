"""A small result table (a chart's numbers, a pivot, a console result) as CSV or Excel bytes (SPEC §8).

Used for tables that are already aggregated and small; whole-search exports stream instead
(lib.queries.export). Spreadsheet formulas in text cells are neutralised the same way.
"""
import io
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import xlsxwriter

from lib.queries.export import EXCEL_MAX_ROWS, neutralise


def frame_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Chinese text correctly); text that looks like a formula is quoted."""
    safe = frame.copy()
    for i in range(safe.shape[1]):       # by position: column names need not be unique
        column = safe.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            safe.isetitem(i, column.map(neutralise))
    safe.columns = [neutralise(name) for name in frame.columns]   # headers may be data (a pivot's values)
    return "\ufeff".encode() + safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def frame_excel(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """One .xlsx sheet with a bold, frozen header; numbers stay numbers, dates stay dates."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet(_sheet_name(sheet_name))
    bold = book.add_format({"bold": True})
    formats = {"date": book.add_format({"num_format": "yyyy-mm-dd"}),
               "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
    sheet.write_row(0, 0, [neutralise(str(c)) for c in frame.columns], bold)
    sheet.freeze_panes(1, 0)
    for row_no, row in enumerate(frame.head(EXCEL_MAX_ROWS).itertuples(index=False), start=1):
        for col, value in enumerate(row):
            _write(sheet, row_no, col, value, formats)
    book.close()
    return out.getvalue()


def _write(sheet, row: int, col: int, value, formats: dict) -> None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return
    if isinstance(value, (pd.Timestamp, datetime)):
        sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), formats["time"])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, datetime.min.time()), formats["date"])
    elif isinstance(value, (bool,)):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float, Decimal)) or hasattr(value, "item"):
        sheet.write_number(row, col, float(value))
    else:
        sheet.write_string(row, col, neutralise(str(value)))


def _sheet_name(name: str) -> str:
    """Excel allows 31 characters and none of []:*?/\\ in a sheet name."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip() or "data"
    return cleaned[:31]
