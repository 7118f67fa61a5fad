"""What a file really is: its format (by content, checked against its name), its text encoding, its CSV dialect.
Anything that is not really CSV, Excel or Parquet is refused with a message saying what it looks like."""
import codecs
import csv
import os

from lib.errors import InvalidInput

MAX_COLUMNS = 200
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16")
DELIMITERS = (",", ";", "\t", "|")
_SAMPLE = 64 * 1024
_CHUNK = 8 * 1024 * 1024
_EXCEL_EXT = (".xlsx", ".xlsm")
_PARQUET_EXT = (".parquet", ".pq")
_HTML_STARTS = ("<!doctype", "<html", "<?xml", "<table", "<head", "<body", "<meta", "<div")


def max_bytes() -> int:
    """The size limit for one file: VOIDDESK_IMPORT_MAX_MB megabytes (default 200)."""
    try:
        megabytes = float(os.environ.get("VOIDDESK_IMPORT_MAX_MB", "200"))
    except ValueError:
        megabytes = 200.0
    return int(megabytes * 1024 * 1024)


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise InvalidInput("import.too_big", size=f"{size / 1048576:,.1f}", limit=f"{limit / 1048576:,.0f}")
    if size == 0:
        raise InvalidInput("import.empty_file")


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


def detect_encoding(data: bytes, choice: str = "auto") -> str:
    """The encoding that decodes all of `data` strictly: the chosen one, else UTF-8 (with or without BOM), then
    GB18030 (a superset of GBK, which Chinese ERP exports use)."""
    choice = encoding_choice(choice)
    if choice != "auto":
        if not _decodes(data, choice):
            raise InvalidInput("import.wrong_encoding", encoding=choice)
        return choice
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    if data[:3] == codecs.BOM_UTF8:
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(data, encoding):
            return encoding
    raise InvalidInput("import.unknown_encoding")


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for i in range(0, len(data), _CHUNK):
            decoder.decode(data[i:i + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def to_utf8(data: bytes, encoding: str) -> bytes:
    """The text as UTF-8 bytes (without a BOM); a chunk at a time, never the whole text as one str."""
    if encoding == "utf-8":
        return data
    if encoding == "utf-8-sig":
        return data[3:] if data[:3] == codecs.BOM_UTF8 else data
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    parts = [decoder.decode(data[i:i + _CHUNK]).encode("utf-8") for i in range(0, len(data), _CHUNK)]
    parts.append(decoder.decode(b"", final=True).encode("utf-8"))
    return b"".join(parts).lstrip(codecs.BOM_UTF8)


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
        header = counts[0]
        consistent = sum(c == header for c in counts) >= len(counts) / 2
        if consistent and header > best_fields:
            best, best_fields = delimiter, header
    if best is None:
        raise InvalidInput("import.not_delimited")
    return best


def header_row(text_head: str, delimiter: str) -> list[str]:
    """The first row's fields, as the CSV module reads them."""
    return next(csv.reader(text_head.splitlines()[:1] or [""], delimiter=delimiter), [])
