"""How an import reads dates: year first as always (2026-03-05, 2026/3/5, 2026年3月5日, Excel serials); year last
(05/03/2026, 5.3.2026, 03-05-2026 14:30) in the file's day/month order, chosen or decided from its values; ISO
timestamps with an offset or Z, moved to this process's local wall-clock time, as every time the app writes is
(datetime.now()). SQL expressions for the staging table, made of fixed formats and Python numbers only."""
import os
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import duckdb
import pyarrow as pa

from lib.errors import InvalidInput
from lib.imports.fields import fields

ORDERS = ("auto", "day_first", "month_first")
EARLIEST = "1990-01-01"
# Year first, as before (DuckDB's strptime reads 3 as well as 03).
YEAR_FIRST = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S",
              "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
              "%Y.%m.%d %H:%M:%S", "%Y.%m.%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日",
              "%Y%m%d"]
_TIMES = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", " %I:%M %p", " %I:%M:%S %p")
YEAR_LAST = {"day_first": [f"%d{s}%m{s}%Y{t}" for s in "/.-" for t in _TIMES],
             "month_first": [f"%m{s}%d{s}%Y{t}" for s in "/.-" for t in _TIMES]}
# The two numbers before a four-digit year: which is the day is the file's date order (leading spaces allowed, so
# the file's own text can be searched before it is trimmed).
PARTS = r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{4}(?:\s*$|[ T])"
# An ISO date and time followed by Z or an offset: +08:00, +0800, +08, -05:00.
OFFSET = r"^(\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?) ?(?:([Zz])|([+-])(\d{2}):?(\d{2})?)$"
_SERIAL = ("CASE WHEN TRY_CAST({0} AS DOUBLE) BETWEEN 1 AND 2958465 THEN TIMESTAMP '1899-12-30'"
           " + to_microseconds(CAST(round(TRY_CAST({0} AS DOUBLE) * 86400) AS BIGINT) * 1000000) END")
# Arrow types read as what they are (Parquet): no day/month order to choose. Timestamps with a zone have an offset.
_TYPED = (pa.types.is_temporal, pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal, pa.types.is_boolean)


@dataclass(frozen=True)
class Detection:
    """What a file's date values say about their order: the first value (and its row) that can only be day first,
    only month first, or either."""
    day: tuple[str, int] | None = None
    month: tuple[str, int] | None = None
    ambiguous: tuple[str, int] | None = None

    @property
    def order(self) -> str | None:
        """day_first | month_first | mixed, or None when no value decides."""
        if self.day and self.month:
            return "mixed"
        return "day_first" if self.day else "month_first" if self.month else None


def check_order(value) -> str:
    """A date order from a mapping file or the command line, refused unless it is one of ORDERS."""
    text = str(value if value is not None else "auto").strip().lower()
    if text not in ORDERS:
        raise InvalidInput("import.bad_date_order", value=text[:40], allowed=", ".join(ORDERS))
    return text


def _list(formats: list[str]) -> str:
    return "[" + ", ".join(f"'{f}'" for f in formats) + "]"


def _part(raw: str, i: int) -> str:
    # No nullif(): it repeats its argument, and DuckDB then computes the repeated regex for every row up front.
    return f"TRY_CAST(regexp_extract({raw}, '{PARTS}', {i}) AS INTEGER)"


def _kind(source, index: int):
    return source.types[index]


def _textual(source, index: int) -> bool:
    return not any(test(_kind(source, index)) for test in _TYPED)


def date_columns(source, mapping) -> list[int]:
    """Positions of the mapped date columns that hold text (a typed date or timestamp has no order to read)."""
    indexes = [mapping.column_index(source, f.name) for f in fields(mapping.kind) if f.type == "datetime"]
    return [i for i in indexes if i is not None and _textual(source, i)]


def detect(cur, source, mapping) -> Detection:
    """Look at every value of the mapped date columns (one aggregate query over the file's table)."""
    indexes = date_columns(source, mapping)
    if not indexes:
        return Detection()
    # The pattern on the file's own text first: trimming a million values costs more than matching them.
    values = " UNION ALL ".join(f"SELECT _row, trim(CAST(c{i} AS VARCHAR)) AS raw FROM {source.scan()} s"
                                f" WHERE regexp_matches(CAST(c{i} AS VARCHAR), '{PARTS}')" for i in indexes)
    picks = {"day": "a BETWEEN 13 AND 31 AND b BETWEEN 1 AND 12", "month": "a BETWEEN 1 AND 12 AND b BETWEEN 13 AND 31",
             "ambiguous": "a BETWEEN 1 AND 12 AND b BETWEEN 1 AND 12 AND a <> b"}
    select = ", ".join(f"arg_min(raw, _row) FILTER (WHERE {w}), min(_row) FILTER (WHERE {w})" for w in picks.values())
    row = cur.execute(f"""SELECT {select} FROM (SELECT _row, raw, {_part('raw', 1)} AS a, {_part('raw', 2)} AS b
        FROM ({values}))""").fetchall()[0]
    found = {name: (row[2 * i], int(row[2 * i + 1])) if row[2 * i] is not None else None
             for i, name in enumerate(picks)}
    return Detection(**found)


def detect_date_order(source, mapping) -> Detection:
    """The detection for the wizard's date-order choice; reads only the file (in a DuckDB of its own, whatever
    the app's database is)."""
    with closing(duckdb.connect()) as cur:
        return detect(cur, source, mapping)


def resolve_order(cur, source, mapping) -> str:
    """The order year-last dates are read in: the mapping's choice, else what the values say; `undecided` when
    none decides (rows that could be either are then rejected). A file with both is refused."""
    if mapping.date_order != "auto":
        return mapping.date_order
    found = detect(cur, source, mapping)
    refuse_mixed(found)
    return found.order or "undecided"


def refuse_mixed(found: Detection) -> None:
    """Refuse dates written both ways (a file cannot be both), naming the first of each."""
    if found.order == "mixed":
        raise InvalidInput("import.mixed_date_order", day=found.day[0], day_row=found.day[1], month=found.month[0],
                           month_row=found.month[1])


def plain_sql(raw: str, order: str) -> str:
    """A date written without an offset, as TIMESTAMP (NULL when unreadable); the costlier readings only where the
    cheaper fail (COALESCE is lazy). Undecided: a year-last date only when both readings agree (05/05/2026)."""
    year_last = f"try_strptime({raw}, {_list(YEAR_LAST['day_first' if order == 'undecided' else order])})"
    if order == "undecided":
        year_last = f"CASE WHEN {_part(raw, 1)} = {_part(raw, 2)} THEN {year_last} END"
    return f"coalesce(try_strptime({raw}, {_list(YEAR_FIRST)}), {_SERIAL.format(raw)}, {year_last})"


def offset_sql(raw: str) -> str:
    """A date and time with an offset or Z, as the UTC moment (naive TIMESTAMP); NULL for anything else."""
    def part(i: int) -> str:
        return f"regexp_extract({raw}, '{OFFSET}', {i})"
    hours, minutes = f"TRY_CAST({part(4)} AS INTEGER)", f"coalesce(TRY_CAST({part(5)} AS INTEGER), 0)"
    shift = (f"CASE WHEN {part(2)} <> '' THEN 0 WHEN {hours} <= 14 AND {minutes} < 60"
             f" THEN (CASE {part(3)} WHEN '-' THEN -1 ELSE 1 END) * ({hours} * 60 + {minutes}) END")
    return f"(try_strptime({part(1)}, {_list(YEAR_FIRST)}) - to_minutes({shift}))"


def may_have_offsets(source, index: int | None) -> bool:
    """Whether a mapped column may hold offsets: text, or timestamps with a time zone (as text they end in +00)."""
    if index is None:
        return False
    kind = _kind(source, index)
    return _textual(source, index) or (pa.types.is_timestamp(kind) and kind.tz is not None)


def local_sql(utc: str) -> str:
    """The local wall-clock time of a UTC moment (a column name), as this process's clock reads it."""
    stretches = local_offsets()
    if len(stretches) == 1:
        return f"({utc} + to_seconds({stretches[0][1]}))"
    cases = " ".join(f"WHEN {utc} >= TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}' THEN {offset}"
                     for start, offset in reversed(stretches[1:]))
    return f"({utc} + to_seconds(CASE {cases} ELSE {stretches[0][1]} END))"


def rejection_sql(name: str, order: str) -> tuple[str, str]:
    """(reason, where) for an unread year-last date the order explains: either reading possible (undecided), or
    only the reading not chosen."""
    a, b = _part(f"{name}_raw", 1), _part(f"{name}_raw", 2)
    where = {"undecided": f"{a} BETWEEN 1 AND 12 AND {b} BETWEEN 1 AND 12 AND {a} <> {b}",
             "day_first": f"{a} BETWEEN 1 AND 12 AND {b} BETWEEN 13 AND 31",
             "month_first": f"{a} BETWEEN 13 AND 31 AND {b} BETWEEN 1 AND 12"}[order]
    reason = {"undecided": "import.reject.ambiguous_date", "day_first": "import.reject.not_day_first",
              "month_first": "import.reject.not_month_first"}[order]
    return reason, f"CASE WHEN {name} IS NULL THEN {where} ELSE FALSE END"   # the patterns only where unread


def local_offsets() -> list[tuple[datetime, int]]:
    """(UTC start, seconds ahead of UTC) for each stretch of this process's local time from 1990 to tomorrow."""
    return _offsets(time.tzname, time.timezone, time.altzone, os.environ.get("TZ"), date.today())


@lru_cache(maxsize=4)
def _offsets(*zone_and_day) -> list[tuple[datetime, int]]:
    start = int((datetime.fromisoformat(EARLIEST) - _EPOCH).total_seconds()) - 86400
    end = int(time.time()) + 2 * 86400
    stretches = [(_EPOCH + timedelta(seconds=start), _offset_at(start))]
    for day in range(start + 86400, end + 86400, 86400):
        if _offset_at(day) != stretches[-1][1]:
            changed = _first_change(day - 86400, day)
            stretches.append((_EPOCH + timedelta(seconds=changed), _offset_at(changed)))
    return stretches


_EPOCH = datetime(1970, 1, 1)


def _offset_at(epoch: int) -> int:
    return round((datetime.fromtimestamp(epoch) - _EPOCH).total_seconds()) - epoch


def _first_change(low: int, high: int) -> int:
    """The first second after `low` whose offset differs from low's (it does by `high`)."""
    before = _offset_at(low)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _offset_at(middle) == before else (low, middle)
    return high
