"""Reading an import file (CSV, Excel .xlsx, Parquet) without holding it in memory (issue #15).

CSV and Excel rows are streamed, a block at a time, into a Parquet file in a temporary folder of the Source's own
(removed with it): columns c0…cN as text, and `_row`, the row number a person finds in the source. A Parquet file
is read where it lies. The import's SQL reads either through DuckDB (Source.scan()), so memory stays flat whatever
the size of the file: no file is ever one table in memory.

Title rows above the header are passed over (lib.imports.sniff.header_index), or a given number of rows skipped.
"""
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lib.db import sql_string
from lib.errors import InvalidInput
from lib.imports import excel, sniff

_NESTED = (pa.types.is_list, pa.types.is_large_list, pa.types.is_struct, pa.types.is_map, pa.types.is_union)
BLOCK_BYTES = 8 << 20       # CSV text parsed at a time
MAX_FIELD_MB = 1            # a longer CSV field is refused (import.huge_field): a quote left open swallows the rest
EXCEL_BATCH = 50_000        # Excel rows written to the spool at a time
_SPOOL = "rows.parquet"


@dataclass(eq=False)
class Source:
    """One file as read: what it was, its column titles, how many rows, and where its rows are (scan())."""
    name: str
    format: str                  # csv | excel | parquet
    headers: list[str]           # titles as in the file, made unique and non-empty
    rows: int                    # data rows
    path: str                    # the Parquet file holding the rows
    columns: tuple[str, ...]     # per position i (c{i}), the Parquet column holding it
    types: tuple = ()            # per position, its Arrow type (text for CSV and Excel)
    row_sql: str = "_row"        # the row number's expression over the Parquet file
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None                 # Excel: the sheet read
    sheets: tuple[excel.Sheet, ...] = ()     # Excel: every sheet of the workbook
    header_row: int = 1                      # the header's row number in the source (0: Parquet has none)
    folder: str | None = field(default=None, repr=False)   # the temporary folder, removed with this object

    def __post_init__(self):
        if self.folder:
            weakref.finalize(self, shutil.rmtree, self.folder, True)

    def scan(self) -> str:
        """SQL of the rows as a subquery: c0 … cN-1 and _row."""
        cols = ", ".join(f"{_identifier(c)} AS c{i}" for i, c in enumerate(self.columns))
        return (f"(SELECT {cols}, {self.row_sql} AS _row FROM read_parquet({sql_string(self.path)},"
                f" file_row_number = true))")

    def values(self, column: str, limit: int | None = None) -> list:
        """A column's values in file order (c0 …, or _row): for tests and small lookups."""
        import duckdb

        with duckdb.connect() as con:
            tail = f" LIMIT {int(limit)}" if limit else ""
            return [r[0] for r in con.execute(f"SELECT {column} FROM {self.scan()} ORDER BY _row{tail}").fetchall()]


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


Reading = Callable[[float], None] | None   # told the fraction of a CSV or Excel file read so far, now and then


def read_path(path, encoding: str = "auto", sheet: str | int | None = None, skip_rows: int | None = None,
              max_mb: float | None = None, progress: Reading = None) -> Source:
    """Read a file from disk (the command line); its size is checked before it is read."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("import.no_such_file", path=str(path))
    sniff.encoding_choice(encoding)
    sniff.check_size(path.stat().st_size, max_mb)
    return _read(path.name, path, encoding, sheet, skip_rows, None, progress)


def read_bytes(name: str, data: bytes, encoding: str = "auto", sheet: str | int | None = None,
               skip_rows: int | None = None, max_mb: float | None = None, progress: Reading = None) -> Source:
    """Read an uploaded file (kept in a temporary file while it is read and used); refuses files too big, too
    wide, empty or not really CSV/Excel/Parquet. `sheet` (a name, or a number from 1) picks an Excel workbook's
    sheet; other files have none. `skip_rows`: rows above the header (None: found). `progress` hears how much
    of a CSV or Excel file has been read (a Parquet file is read where it is, at once)."""
    sniff.encoding_choice(encoding)
    sniff.check_size(len(data), max_mb)
    folder = tempfile.mkdtemp(prefix="voiddesk-import-")
    try:
        upload = Path(folder) / ("upload" + Path(name).suffix.lower()[:10])
        upload.write_bytes(data)
        return _read(name, upload, encoding, sheet, skip_rows, folder, progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _read(name: str, path: Path, encoding: str, sheet, skip_rows, folder: str | None, progress: Reading = None
          ) -> Source:
    skip_rows = sniff.check_skip_rows(skip_rows)
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    fmt = sniff.file_format(name, head)
    if sheet is not None and fmt != "excel":
        raise InvalidInput("import.sheet_not_excel", name=name[:200])
    if fmt == "parquet":
        source = _read_parquet(name, path, folder)
    else:
        own = folder is None
        folder = folder or tempfile.mkdtemp(prefix="voiddesk-import-")
        try:
            tell = progress or (lambda fraction: None)
            source = (_read_excel(name, path, sheet, skip_rows, folder, tell) if fmt == "excel"
                      else _read_csv(name, path, encoding, skip_rows, folder, tell))
        except BaseException:
            if own:
                shutil.rmtree(folder, ignore_errors=True)
            raise
    if source.rows == 0:
        raise InvalidInput("import.no_rows_in_sheet" if source.sheet else "import.no_rows", sheet=source.sheet)
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


def _spool_schema(width: int) -> pa.Schema:
    return pa.schema([(f"c{i}", pa.string()) for i in range(width)] + [("_row", pa.int64())])


def _spooled(name: str, fmt: str, titles: list, rows: int, folder: str, **facts) -> Source:
    width = len(titles)
    return Source(name, fmt, unique_headers(titles), rows, os.path.join(folder, _SPOOL),
                  tuple(f"c{i}" for i in range(width)), (pa.string(),) * width, folder=folder, **facts)


def _read_csv(name: str, path: Path, encoding: str, skip_rows: int | None, folder: str,
              tell: Callable[[float], None]) -> Source:
    encoding = sniff.detect_file_encoding(path, encoding)
    text_path, start = path, 0
    if encoding == "utf-8-sig":
        start = 3
    elif encoding != "utf-8":
        text_path = Path(folder) / "text.csv"
        sniff.transcode(path, encoding, text_path)
    with open(text_path, "rb") as f:
        f.seek(start)
        head = f.read(64 * 1024).decode("utf-8", errors="ignore")
    delimiter = sniff.detect_delimiter(head)
    first = sniff.first_rows(head, delimiter, sniff.HEADER_SEARCH_ROWS + (skip_rows or 0))
    header = sniff.header_index(first, skip_rows)
    titles = first[header] if header < len(first) else []
    sniff.check_columns(len(titles))
    names = [f"c{i}" for i in range(len(titles))]
    ragged = []

    def refuse_ragged(row):   # an exception raised here would be swallowed: note the row, stop the reader
        ragged.append(row)
        return "error"

    written, consumed = 0, 0
    size = max(1, text_path.stat().st_size - start)
    stream = open(text_path, "rb")
    try:
        stream.seek(start)
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(skip_rows=header + 1, column_names=names, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=refuse_ragged),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        with pq.ParquetWriter(os.path.join(folder, _SPOOL), _spool_schema(len(names))) as out:
            for batch in reader:
                _refuse_huge_fields(batch, header + 2 + written)
                numbers = pa.array(range(header + 2 + written, header + 2 + written + batch.num_rows), pa.int64())
                out.write_batch(pa.RecordBatch.from_arrays(list(batch.columns) + [numbers],
                                                           schema=_spool_schema(len(names))))
                written += batch.num_rows
                # the text read so far: the cells, a separator or line end after each (the reader reads ahead,
                # so where the file stands says little)
                consumed += batch.num_rows * len(names) + sum(pc.sum(pc.binary_length(c)).as_py() or 0
                                                               for c in batch.columns)
                tell(min(0.99, consumed / size))
    except pa.ArrowInvalid as exc:
        if ragged:
            row = ragged[0]
            raise InvalidInput("import.ragged_row", expected=row.expected_columns, actual=row.actual_columns,
                               text=(row.text or "")[:80]) from None
        detail = str(exc).splitlines()[0]
        if "straddling" in detail or "block size" in detail:
            raise InvalidInput("import.huge_field", row=header + 2 + written, limit=MAX_FIELD_MB) from None
        raise InvalidInput("import.bad_csv", detail=detail[:200]) from None
    finally:
        stream.close()
    tell(1.0)
    return _spooled(name, "csv", titles, written, folder, encoding=encoding, delimiter=delimiter,
                    header_row=header + 1)


def _refuse_huge_fields(batch: pa.RecordBatch, first_row: int) -> None:
    """Refuse a field longer than MAX_FIELD_MB, naming its row (`first_row` is the batch's first)."""
    limit = MAX_FIELD_MB << 20
    for column in batch.columns:
        lengths = pc.binary_length(column)
        if (pc.max(lengths).as_py() or 0) > limit:
            index = pc.index(pc.greater(lengths, limit), True).as_py()
            raise InvalidInput("import.huge_field", row=first_row + index, limit=MAX_FIELD_MB)


def _read_parquet(name: str, path: Path, folder: str | None) -> Source:
    try:
        meta = pq.ParquetFile(path)
        schema = meta.schema_arrow
        rows = meta.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput("import.bad_parquet", detail=str(exc).splitlines()[0][:200]) from None
    sniff.check_columns(len(schema))
    for column_field in schema:
        if any(test(column_field.type) for test in _NESTED):
            raise InvalidInput("import.nested_column", column=column_field.name)
    return Source(name, "parquet", unique_headers(schema.names), rows, str(path), tuple(schema.names),
                  tuple(f.type for f in schema), row_sql="file_row_number + 1", header_row=0, folder=folder)


def _read_excel(name: str, path: Path, sheet, skip_rows: int | None, folder: str,
                tell: Callable[[float], None]) -> Source:
    """One worksheet: the chosen one, else the one with the widest table (lib.imports.excel), streamed."""
    read = excel.open_sheet(str(path), sheet, skip_rows)
    try:
        width, written = len(read.titles), 0
        stored = next((s.rows for s in read.sheets if s.name == read.sheet), None) or 0
        schema = _spool_schema(width)
        with pq.ParquetWriter(os.path.join(folder, _SPOOL), schema) as out:
            batch: list[tuple[int, list[str]]] = []
            for row in read.rows:
                batch.append(row)
                if len(batch) == EXCEL_BATCH:
                    written += _write_rows(out, schema, batch, width)
                    if stored:
                        tell(min(1.0, written / stored))
            written += _write_rows(out, schema, batch, width)
        tell(1.0)
        return _spooled(name, "excel", read.titles, written, folder, sheet=read.sheet, sheets=read.sheets,
                        header_row=read.header_row)
    finally:
        read.close()


def _write_rows(out, schema: pa.Schema, batch: list, width: int) -> int:
    n = len(batch)
    if n:
        arrays = [pa.array([cells[i] for _, cells in batch], pa.string()) for i in range(width)]
        out.write_batch(pa.RecordBatch.from_arrays(arrays + [pa.array([r for r, _ in batch], pa.int64())],
                                                   schema=schema))
        batch.clear()
    return n
