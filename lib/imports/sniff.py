"""What a file really is: its format (by content, checked against its name), its text encoding, its CSV dialect.
Anything that is not really CSV, Excel or Parquet is refused with a message saying what it looks like."""
import codecs
import csv
import math
import os
from collections import Counter

from lib.errors import InvalidInput

MAX_COLUMNS = 200
HEADER_SEARCH_ROWS = 30   # the header is looked for among this many rows at the top of a file or sheet
MAX_SKIP_ROWS = 1000
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16")
DELIMITERS = (",", ";", "\t", "|")
_SAMPLE = 64 * 1024
_CHUNK = 8 * 1024 * 1024
_EXCEL_EXT = (".xlsx", ".xlsm")
_PARQUET_EXT = (".parquet", ".pq")
_HTML_STARTS = ("<!doctype", "<html", "<?xml", "<table", "<head", "<body", "<meta", "<div")


DEFAULT_MAX_MB = 1024


def max_bytes(limit_mb: float | None = None) -> int:
    """The size limit for one file in bytes: `limit_mb` megabytes (the Rules page's "Largest import file", or the
    command's --max-mb), else DEFAULT_MAX_MB."""
    return int(float(DEFAULT_MAX_MB if limit_mb is None else limit_mb) * 1024 * 1024)


def check_size(size: int, limit_mb: float | None = None) -> None:
    limit = max_bytes(limit_mb)
    if size > limit:
        raise InvalidInput("import.too_big", size=f"{size / 1048576:,.1f}", limit=f"{limit / 1048576:,.0f}")
    if size == 0:
        raise InvalidInput("import.empty_file")


def check_skip_rows(value) -> int | None:
    """Rows above the header to skip (None: find the header), refused unless a whole number up to MAX_SKIP_ROWS."""
    if value is None or value == "":
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        n = -1
    if not 0 <= n <= MAX_SKIP_ROWS:
        raise InvalidInput("import.bad_skip_rows", value=str(value)[:40], limit=MAX_SKIP_ROWS)
    return n


def header_index(rows: list[list[str]], skip: int | None = None) -> int:
    """Which of a file's first rows is its header: row `skip` when given; else the first of two or more filled
    cells that is about as full as most rows under it, three quarters at least (title rows, blank rows and
    key/value notes above a table are passed over; a header may leave a title or two blank); else the first
    row."""
    if skip is not None:
        return skip
    filled = [sum(1 for c in row if str(c).strip()) for row in rows]
    for i, n in enumerate(filled):
        if n < 2:
            continue
        below = [m for m in filled[i + 1:] if m]
        if not below or n >= max(2, math.ceil(0.75 * Counter(below).most_common(1)[0][0])):
            return i
    return 0


def check_columns(n: int) -> None:
    if n > MAX_COLUMNS:
        raise InvalidInput("import.too_many_columns", n=n, limit=MAX_COLUMNS)


def file_format(name: str, data: bytes) -> str:
    """csv | excel | parquet, from the content; refuses content that does not fit the file's extension."""
    ext = os.path.splitext(name.lower())[1]
    content = _content_kind(data)
    if content == "ole":
        raise InvalidInput("import.old_excel")
    if ext in _EXCEL_EXT and content != "zip":
        raise InvalidInput(_text_refusal(data) or "import.not_excel")
    if ext in _PARQUET_EXT and content != "parquet":
        raise InvalidInput(_text_refusal(data) or "import.not_parquet")
    if content == "zip":
        return "excel"
    if content == "parquet":
        return "parquet"
    refusal = _text_refusal(data)
    if refusal:
        raise InvalidInput(refusal)
    return "csv"


def _content_kind(data: bytes) -> str:
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:8] == bytes.fromhex("d0cf11e0a1b11ae1"):
        return "ole"
    return "text"


def _text_refusal(data: bytes) -> str | None:
    """The refusal key for content that is not plain delimited text (binary, HTML), else None."""
    head = data[:_SAMPLE]
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    if b"\x00" in head or _control_share(head) > 0.01:
        return "import.binary_file"
    start = head.lstrip(codecs.BOM_UTF8).lstrip()[:200].decode("utf-8", errors="ignore").lower()
    if start.startswith(_HTML_STARTS):
        return "import.html_file"
    return None


def _control_share(head: bytes) -> float:
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13))
    return controls / max(len(head), 1)


def encoding_choice(choice: str | None) -> str:
    """The chosen encoding's name, refused unless it is one of ENCODINGS."""
    choice = (choice or "auto").strip().lower()
    if choice not in ENCODINGS:
        raise InvalidInput("import.bad_encoding", value=choice[:40], allowed=", ".join(ENCODINGS))
    return choice


def detect_file_encoding(path, choice: str = "auto") -> str:
    """The encoding that decodes all of the file strictly, read a chunk at a time: the chosen one, else UTF-8
    (with or without BOM), then GB18030 (a superset of GBK, which Chinese ERP exports use)."""
    choice = encoding_choice(choice)
    with open(path, "rb") as f:
        head = f.read(4)
    if choice != "auto":
        if not _decodes(path, choice):
            raise InvalidInput("import.wrong_encoding", encoding=choice)
        return choice
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    if head[:3] == codecs.BOM_UTF8:
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise InvalidInput("import.unknown_encoding")


def _chunks(path):
    """The file's bytes a chunk at a time."""
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


def _decodes(path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for chunk in _chunks(path):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def transcode(path, encoding: str, target) -> None:
    """The text of `path` in `encoding` written to `target` as UTF-8 without a BOM, a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    first = True
    with open(target, "wb") as out:
        for chunk in _chunks(path):
            text = decoder.decode(chunk).encode("utf-8")
            if first:
                text, first = text.lstrip(codecs.BOM_UTF8), not text
            out.write(text)
        out.write(decoder.decode(b"", final=True).encode("utf-8"))


def detect_delimiter(text_head: str) -> str:
    """The delimiter that splits the first lines into the same number (above one) of fields, most fields first."""
    lines = text_head.splitlines()[:50]
    if len(lines) > 1 and len(text_head) >= _SAMPLE:
        lines = lines[:-1]   # the sample may cut the last line short
    best, best_fields = None, 1
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not counts:
            continue
        common, times = Counter(counts).most_common(1)[0]   # title rows above the header do not decide
        if times >= len(counts) / 2 and common > best_fields:
            best, best_fields = delimiter, common
    if best is None:
        raise InvalidInput("import.not_delimited")
    return best


def first_rows(text_head: str, delimiter: str, n: int) -> list[list[str]]:
    """The first `n` rows' fields as the CSV module reads them, one list per line (a blank line: [])."""
    lines = text_head.splitlines()[:n]
    return [row for row in csv.reader(lines, delimiter=delimiter)]
