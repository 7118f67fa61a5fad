"""Reading an import file (CSV, Excel .xlsx, Parquet) into one Arrow table: columns c0…cN in file order plus
`_row`, the row number a person finds in the source (the header is row 1)."""
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lib.errors import InvalidInput
from lib.imports import excel, sniff

_NESTED = (pa.types.is_list, pa.types.is_large_list, pa.types.is_struct, pa.types.is_map, pa.types.is_union)


@dataclass
class Source:
    """One file as read: what it was, its column titles, its rows."""
    name: str
    format: str                  # csv | excel | parquet
    headers: list[str]           # titles as in the file, made unique and non-empty
    table: pa.Table              # c0 … cN-1 (strings, or Parquet's own types) and _row
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None                 # Excel: the sheet read
    sheets: tuple[excel.Sheet, ...] = ()     # Excel: every sheet of the workbook

    @property
    def rows(self) -> int:
        return self.table.num_rows


def read_path(path, encoding: str = "auto", sheet: str | int | None = None) -> Source:
    """Read a file from disk (the command line); its size is checked before it is read."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("import.no_such_file", path=str(path))
    sniff.encoding_choice(encoding)
    sniff.check_size(path.stat().st_size)
    return read_bytes(path.name, path.read_bytes(), encoding, sheet)


def read_bytes(name: str, data: bytes, encoding: str = "auto", sheet: str | int | None = None) -> Source:
    """Read an uploaded or loaded file; refuses files too big, too wide, empty or not really CSV/Excel/Parquet.
    `sheet` (a name, or a number from 1) picks an Excel workbook's sheet; other files have none."""
    encoding = sniff.encoding_choice(encoding)
    sniff.check_size(len(data))
    fmt = sniff.file_format(name, data)
    if sheet is not None and fmt != "excel":
        raise InvalidInput("import.sheet_not_excel", name=name[:200])
    if fmt == "excel":
        source = _read_excel(name, data, sheet)
    elif fmt == "parquet":
        source = _read_parquet(name, data)
    else:
        source = _read_csv(name, data, encoding)
    if source.rows == 0:
        raise InvalidInput("import.no_rows")
    return source


def unique_headers(titles: list) -> list[str]:
    """Titles stripped; blanks become 'column N'; repeats get ' (2)', ' (3)' …"""
    seen: dict[str, int] = {}
    out = []
    for i, title in enumerate(titles, start=1):
        text = str(title).strip() if title is not None else ""
        text = text or f"column {i}"
        seen[text] = seen.get(text, 0) + 1
        out.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return out


def _with_rows(columns: list[pa.Array], first_row: int, rows: np.ndarray | None = None) -> pa.Table:
    n = len(columns[0]) if columns else 0
    numbers = rows if rows is not None else np.arange(first_row, first_row + n, dtype=np.int64)
    names = [f"c{i}" for i in range(len(columns))] + ["_row"]
    return pa.Table.from_arrays(list(columns) + [pa.array(numbers, pa.int64())], names=names)


def _read_csv(name: str, data: bytes, encoding: str) -> Source:
    encoding = sniff.detect_encoding(data, encoding)
    text = sniff.to_utf8(data, encoding)
    head = text[:64 * 1024].decode("utf-8", errors="ignore")
    delimiter = sniff.detect_delimiter(head)
    titles = sniff.header_row(head, delimiter)
    sniff.check_columns(len(titles))
    names = [f"c{i}" for i in range(len(titles))]

    ragged = []

    def refuse_ragged(row):   # an exception raised here would be swallowed: note the row, stop the reader
        ragged.append(row)
        return "error"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=refuse_ragged),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        if ragged:
            row = ragged[0]
            raise InvalidInput("import.ragged_row", expected=row.expected_columns, actual=row.actual_columns,
                               text=(row.text or "")[:80]) from None
        raise InvalidInput("import.bad_csv", detail=str(exc).splitlines()[0][:200]) from None
    return Source(name, "csv", unique_headers(titles), _with_rows(table.columns, 2), encoding, delimiter)


def _read_parquet(name: str, data: bytes) -> Source:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput("import.bad_parquet", detail=str(exc).splitlines()[0][:200]) from None
    sniff.check_columns(table.num_columns)
    for column_field in table.schema:
        if any(test(column_field.type) for test in _NESTED):
            raise InvalidInput("import.nested_column", column=column_field.name)
    return Source(name, "parquet", unique_headers(table.column_names), _with_rows(table.columns, 1))


def _read_excel(name: str, data: bytes, sheet: str | int | None) -> Source:
    """One worksheet: the chosen one, else the first holding a table (lib.imports.excel)."""
    read = excel.read_sheet(data, sheet)
    arrays = [pa.array(c, pa.string()) for c in read.columns]
    return Source(name, "excel", unique_headers(read.titles), _with_rows(arrays, 2, np.asarray(read.numbers, np.int64)),
                  sheet=read.sheet, sheets=read.sheets)
