"""Reading one sheet of an Excel workbook (openpyxl, read-only: rows stream, only the chosen sheet is read). The
sheets are listed with the row count the workbook stores; without a choice, the first sheet holding a table (a
header of two or more columns and a row under it) is read, so an empty cover sheet is passed over."""
import io
from dataclasses import dataclass
from datetime import date, datetime, time

from lib.errors import InvalidInput
from lib.imports import sniff


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: int | None   # rows under the header, as the workbook's stored size says; None when it does not say


@dataclass
class SheetRows:
    sheet: str
    sheets: tuple[Sheet, ...]
    titles: list
    columns: list[list[str]]
    numbers: list[int]   # each row's number in the sheet (the header is row 1)


def list_sheets(data: bytes) -> tuple[tuple[Sheet, ...], str]:
    """Every sheet with its stored row count, and the one read when none is chosen (the wizard's choice)."""
    book = _open(data)
    try:
        return _sheets(book), book.worksheets[_chosen(book.worksheets, None)].title
    finally:
        book.close()


def read_sheet(data: bytes, choice: str | int | None = None) -> SheetRows:
    """The chosen sheet (a name, or a number from 1), else the first with a table; formulas read as the values
    Excel stored (data_only), fully empty rows skipped."""
    book = _open(data)
    try:
        ws = book.worksheets[_chosen(book.worksheets, choice)]
        rows = ws.iter_rows(values_only=True)
        titles = list(next(rows, ()))
        while titles and titles[-1] in (None, ""):
            titles.pop()
        sniff.check_columns(len(titles))
        columns, numbers = _columns(rows, len(titles))
        return SheetRows(ws.title, _sheets(book), titles, columns, numbers)
    finally:
        book.close()


def _open(data: bytes):
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:   # openpyxl raises many kinds (zip, XML, key errors) for files that are not workbooks
        raise InvalidInput("import.bad_excel", detail=str(exc).splitlines()[0][:200] if str(exc) else "") from None


def _sheets(book) -> tuple[Sheet, ...]:
    return tuple(Sheet(ws.title, _stored_rows(ws)) for ws in book.worksheets)


def _stored_rows(ws) -> int | None:
    if ws.max_row is None:
        return None
    return max(ws.max_row - (ws.min_row or 1), 0)


def _chosen(worksheets, choice) -> int:
    """The index of the sheet named (exactly, else ignoring case) or numbered by `choice`."""
    if choice is None:
        return next((i for i, ws in enumerate(worksheets) if _has_table(ws)), 0)
    text = str(choice).strip()
    names = [ws.title for ws in worksheets]
    for same in (lambda n: n == text, lambda n: n.casefold() == text.casefold()):
        found = [i for i, name in enumerate(names) if same(name)]
        if found:
            return found[0]
    if text.isdigit() and 1 <= int(text) <= len(names):
        return int(text) - 1
    raise InvalidInput("import.unknown_sheet", sheet=text[:60] or "''",
                       sheets=", ".join(f"{i} {n}" for i, n in enumerate(names, start=1))[:400])


def _has_table(ws) -> bool:
    """A header row (the first, as the reader takes it) of two or more cells and a non-empty row below it; reads
    only up to that row."""
    rows = ws.iter_rows(values_only=True)
    header = [c for c in next(rows, ()) if c not in (None, "")]
    if len(header) < 2:
        return False
    return any(any(c not in (None, "") for c in row) for row in rows)


def _columns(rows, width: int) -> tuple[list[list[str]], list[int]]:
    columns: list[list[str]] = [[] for _ in range(width)]
    numbers = []
    for number, row in enumerate(rows, start=2):
        cells = [cell_text(v) for v in row[:width]]
        if not any(cells):
            continue
        cells += [""] * (width - len(cells))
        for column, cell in zip(columns, cells):
            column.append(cell)
        numbers.append(number)
    return columns, numbers


def cell_text(value) -> str:
    """A cell as text the staging SQL parses like CSV text: whole floats without '.0', dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "microseconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)
