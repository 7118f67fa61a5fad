"""Reading one sheet of an Excel workbook (openpyxl, read-only: rows stream, only the sheets looked at are read).

The sheets are listed with the row count the workbook stores. Without a choice, the sheet read is the one whose
table is widest among its first rows (a cover sheet with a title or key/value pairs above a real table loses to
it); its header is the first row as wide as most of the rows under it, so title rows above the header are passed
over (lib.imports.sniff.find_header), unless the caller says how many rows to skip."""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from lib.errors import InvalidInput
from lib.imports import sniff


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: int | None   # rows under the first row, as the workbook's stored size says; None when it does not say


@dataclass
class SheetRows:
    """The chosen sheet: its header, and its data rows as (row number in the sheet, cells as text), streamed."""
    sheet: str
    sheets: tuple[Sheet, ...]
    titles: list
    header_row: int                         # the header's row number in the sheet (from 1)
    rows: Iterator[tuple[int, list[str]]]   # fully empty rows left out
    book: object

    def close(self) -> None:
        self.book.close()


def list_sheets(data) -> tuple[tuple[Sheet, ...], str]:
    """Every sheet with its stored row count, and the one read when none is chosen (the wizard's choice).
    `data`: the workbook's bytes, or a path."""
    book = _open(data)
    try:
        return _sheets(book), book.worksheets[_chosen(book.worksheets, None)].title
    finally:
        book.close()


def open_sheet(data, choice: str | int | None = None, skip_rows: int | None = None) -> SheetRows:
    """The chosen sheet (a name, or a number from 1), else the one with the widest table; formulas read as the
    values Excel stored (data_only). `skip_rows` rows above the header are skipped; None finds the header.
    Close the result when done (the workbook stays open while its rows stream)."""
    book = _open(data)
    try:
        ws = book.worksheets[_chosen(book.worksheets, choice)]
        rows = _numbered(ws)
        head = _take(rows, sniff.HEADER_SEARCH_ROWS + (skip_rows or 0))
        if skip_rows is None:
            index = sniff.header_index([cells for _, cells in head])
        else:   # the first row holding anything below the rows skipped
            index = next((i for i, (number, _) in enumerate(head) if number > skip_rows), len(head))
        if index >= len(head):
            return SheetRows(ws.title, _sheets(book), [], 0, iter(()), book)
        number, titles = head[index]
        while titles and titles[-1] == "":
            titles.pop()
        try:
            sniff.check_columns(len(titles))
        except InvalidInput as exc:
            raise InvalidInput("import.too_many_columns_in_sheet", sheet=ws.title, **exc.params) from None
        width = len(titles)
        data_rows = _fitted(_chain(head[index + 1:], rows), width)
        return SheetRows(ws.title, _sheets(book), titles, number, data_rows, book)
    except BaseException:
        book.close()
        raise


def _open(data):
    import io

    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data,
                             read_only=True, data_only=True)
    except Exception as exc:   # openpyxl raises many kinds (zip, XML, key errors) for files that are not workbooks
        raise InvalidInput("import.bad_excel", detail=str(exc).splitlines()[0][:200] if str(exc) else "") from None


def _sheets(book) -> tuple[Sheet, ...]:
    return tuple(Sheet(ws.title, _stored_rows(ws)) for ws in book.worksheets)


def _stored_rows(ws) -> int | None:
    if ws.max_row is None:
        return None
    return max(ws.max_row - (ws.min_row or 1), 0)


def _chosen(worksheets, choice) -> int:
    """The index of the sheet named (exactly, else ignoring case) or numbered by `choice`; without one, the sheet
    with the widest table (the first of equals), else the first sheet."""
    if choice is None:
        widths = [_table_width(ws) for ws in worksheets]
        best = max(widths, default=0)
        return widths.index(best) if best else 0
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


def _table_width(ws) -> int:
    """The width of the sheet's table (its header's non-empty cells) when it has a header of two or more columns
    and a row under it, else 0; reads only the first rows."""
    head = [cells for _, cells in _take(_numbered(ws), sniff.HEADER_SEARCH_ROWS)]
    index = sniff.header_index(head, None)
    if index + 1 >= len(head):
        return 0
    width = sum(1 for c in head[index] if c)
    return width if width >= 2 else 0


def _numbered(ws) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) of the rows holding anything."""
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = [cell_text(v) for v in row]
        if any(cells):
            yield number, cells


def _take(rows: Iterator, n: int) -> list:
    out = []
    for row in rows:
        out.append(row)
        if len(out) == n:
            break
    return out


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _fitted(rows: Iterator[tuple[int, list[str]]], width: int) -> Iterator[tuple[int, list[str]]]:
    """Rows cut or padded to the header's width; rows empty within it left out."""
    for number, cells in rows:
        cells = cells[:width] + [""] * (width - len(cells))
        if any(cells):
            yield number, cells


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
