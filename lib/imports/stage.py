"""The source rows as typed values, in one temporary table (imp_stage), and the checks every field's type asks
for, written to the rejects table (imp_rejects). Set-based SQL in DuckDB: nothing here loops over rows.

Column names in the SQL are fixed field names and c0…cN positions, never source text."""
import pyarrow as pa

from lib.db import sql_string
from lib.imports import dates
from lib.imports.fields import RECODED, Field, fields
from lib.imports.mapping import Mapping
from lib.imports.readers import Source

MAX_TEXT = 200
MAX_QTY = 1_000_000
MAX_MONEY = 100_000_000

REJECTS_DDL = ("CREATE OR REPLACE TEMP TABLE imp_rejects (_row BIGINT, field VARCHAR, reason VARCHAR, value VARCHAR,"
               " info VARCHAR, extra VARCHAR)")


def _raw(index: int | None) -> str:
    if index is None:
        return "NULL::VARCHAR"
    return f"nullif(trim(CAST(s.c{index} AS VARCHAR)), '')"


def _constant(value: str) -> str:
    """A fixed value for every row (the mapping's "constants"), as SQL text: a quoted literal."""
    return f"nullif(trim({sql_string(value)}), '')"


def _parsed(f: Field, raw: str, order: str) -> str:
    """The typed value; the plain reading first, the costlier one only where it fails (COALESCE is lazy)."""
    if f.type == "code":
        return f"upper({raw})"
    if f.type in ("int", "qty", "count"):
        return f"coalesce(TRY_CAST({raw} AS DECIMAL(18,4)), TRY_CAST(replace({raw}, ',', '') AS DECIMAL(18,4)))"
    if f.type == "money":
        cleaned = f"replace(replace(replace(replace({raw}, ',', ''), '¥', ''), '￥', ''), '$', '')"
        return f"coalesce(TRY_CAST({raw} AS DECIMAL(18,4)), TRY_CAST({cleaned} AS DECIMAL(18,4)))"
    if f.type == "datetime":
        return dates.plain_sql(raw, order)
    if f.type in ("status", "payment"):
        return f"v_{f.name}.code"
    return raw


def create_stage(cur, source: Source, mapping: Mapping) -> str | None:
    """imp_stage: _row, then per field `<name>_raw` (the trimmed text, NULL when empty) and `<name>` (typed).
    Returns the order year-last dates were read in (None when no date column is mapped)."""
    _register_values(cur, mapping)
    order = None
    if any(f.type == "datetime" for f in fields(mapping.kind) if f.name in mapping.mapped()):
        order = dates.resolve_order(cur, source, mapping)
    parts, joins, moments = ["s._row"], [], []
    for f in fields(mapping.kind):
        index = mapping.column_index(source, f.name)
        raw = _constant(mapping.constants[f.name]) if f.name in mapping.constants else _raw(index)
        if f.name in RECODED and mapping.values.get(f.name):   # the file's word for it, made the code
            joins.append(f"LEFT JOIN imp_values v_{f.name} ON v_{f.name}.field = '{f.name}'"
                         f" AND v_{f.name}.word = lower({raw})")
            raw = f"coalesce(v_{f.name}.code, {raw})"
        parts.append(f"{raw} AS {f.name}_raw")
        parts.append(f"{_parsed(f, raw, order or 'undecided')} AS {f.name}")
        if f.type == "datetime" and dates.may_have_offsets(source, index):
            moments.append(f.name)
        if f.type in ("status", "payment"):
            joins.append(f"LEFT JOIN imp_values v_{f.name} ON v_{f.name}.field = '{f.name}'"
                         f" AND v_{f.name}.word = lower({raw})")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE imp_stage AS SELECT {', '.join(parts)}"
                f" FROM {source.scan()} s {' '.join(joins)}")
    for name in moments:
        _read_offsets(cur, name)
    cur.unregister("imp_value_list")
    cur.execute(REJECTS_DDL)
    return order


def _read_offsets(cur, name: str) -> None:
    """Dates left unread that carry an offset or Z: read as UTC moments, stored as local time. Only those rows are
    looked at, so a file without them costs a scan for NULLs."""
    cur.execute(f"""UPDATE imp_stage SET {name} = m.local_time
        FROM (SELECT _row, {dates.local_sql('utc')} AS local_time
              FROM (SELECT _row, {dates.offset_sql(f'{name}_raw')} AS utc FROM imp_stage
                    WHERE {name} IS NULL AND {name}_raw IS NOT NULL) WHERE utc IS NOT NULL) m
        WHERE imp_stage._row = m._row""")


def _register_values(cur, mapping: Mapping) -> None:
    """imp_values: (field, lower-case source word, code) for the status and payment values the mapping names."""
    words = [(name, word.strip().lower(), code) for name, chosen in mapping.values.items()
             for word, code in chosen.items()]
    cur.register("imp_value_list", pa.table({"field": [w[0] for w in words], "word": [w[1] for w in words],
                                             "code": [w[2] for w in words]},
                                            schema=pa.schema([("field", pa.string()), ("word", pa.string()),
                                                              ("code", pa.string())])))
    cur.execute("CREATE OR REPLACE TEMP TABLE imp_values AS SELECT DISTINCT ON (field, word) * FROM imp_value_list")


def reject(cur, field: str, reason: str, where: str, *, value: str | None = None, info: str = "NULL",
           extra: str = "NULL", table: str = "imp_rows", params: list | None = None) -> None:
    """Add a problem for every row of `table` matching `where`: (row, field, reason key, value, info, extra)."""
    value = value or f"{field}_raw"
    cur.execute(f"INSERT INTO imp_rejects SELECT _row, '{field}', '{reason}', CAST({value} AS VARCHAR),"
                f" CAST({info} AS VARCHAR), CAST({extra} AS VARCHAR) FROM {table} WHERE {where}", params or [])


def check_types(cur, mapping: Mapping, latest, order: str | None = None) -> None:
    """The checks each field's type asks for (present when required, readable, within range): at most one
    problem per field and row. `latest` is the latest date and time accepted; `order` the one dates were read in."""
    mapped = mapping.mapped()
    for f in fields(mapping.kind):
        if f.name not in mapped:
            continue
        steps = [(f"{f.name}_raw IS NULL", "'import.reject.missing'" if f.required else "NULL")]
        steps += [(where, f"'{reason}'") for reason, where in _type_checks(f, order or 'undecided')]
        case = " ".join(f"WHEN {where} THEN {reason}" for where, reason in steps)
        cur.execute(f"""INSERT INTO imp_rejects SELECT _row, '{f.name}', reason, {f.name}_raw, NULL, NULL
            FROM (SELECT _row, {f.name}_raw, CASE {case} END AS reason FROM imp_stage) WHERE reason IS NOT NULL""",
                    [latest] if f.type == "datetime" else [])


def _type_checks(f: Field, order: str) -> list[tuple[str, str]]:
    n = f.name
    if f.type in ("text", "code"):
        return [("import.reject.too_long", f"length({n}_raw) > {MAX_TEXT}")]
    if f.type in ("int", "qty", "count"):
        low = {"qty": ("import.reject.bad_qty", f"{n} <= 0"), "count": ("import.reject.negative", f"{n} < 0"),
               "int": ("import.reject.not_positive", f"{n} <= 0")}[f.type]
        return [("import.reject.bad_number", f"{n} IS NULL"), ("import.reject.not_whole", f"{n} <> trunc({n})"),
                low, ("import.reject.too_large", f"{n} > {MAX_QTY}")]
    if f.type == "money":
        return [("import.reject.bad_money", f"{n} IS NULL"), ("import.reject.negative", f"{n} < 0"),
                ("import.reject.too_large", f"{n} > {MAX_MONEY}")]
    if f.type == "datetime":
        return [dates.rejection_sql(n, order), ("import.reject.bad_date", f"{n} IS NULL"),
                ("import.reject.date_out_of_range", f"{n} < TIMESTAMP '{dates.EARLIEST}' OR {n} > ?::TIMESTAMP")]
    if f.type in ("status", "payment"):
        return [("import.reject.unmapped_value", f"{n} IS NULL")]
    return []
