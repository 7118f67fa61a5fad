"""Which source column feeds which field, and which source value means which status: proposed from the headers
and values, chosen by the user, saved as JSON the command line takes (--mapping FILE)."""
import json
from contextlib import closing
from dataclasses import dataclass, field as dc_field

import duckdb

from lib import i18n
from lib.errors import InvalidInput
from lib.imports.dates import check_order
from lib.imports.fields import ABOUT, ABOUT_IN_KIND, CODED, FIELDS, FORMER_NAMES, KINDS, RECODED, VALUE_FIELDS, fields, norm
from lib.imports.readers import Source
from lib.imports.sniff import check_skip_rows

MAX_VALUES = 200   # distinct source values offered for mapping per field
MAX_CONSTANT = 200   # characters of a fixed value (as of any text field)


@dataclass
class Mapping:
    kind: str
    columns: dict[str, str] = dc_field(default_factory=dict)            # field -> source header
    values: dict[str, dict[str, str]] = dc_field(default_factory=dict)  # field -> {source value: code}
    date_order: str = "auto"       # how to read 05/03/2026: auto | day_first | month_first (lib.imports.dates)
    sheet: str | None = None       # the Excel sheet the columns are on
    skip_rows: int | None = None   # rows above the header (title rows); None: the header is found by itself
    constants: dict[str, str] = dc_field(default_factory=dict)   # field -> one value for every row (no column)
    totals: str = "keep"           # an order's total: the file's (keep; tax, discount, freight included) or its lines'

    def column_index(self, source: Source, name: str) -> int | None:
        header = self.columns.get(name)
        return source.headers.index(header) if header in source.headers else None

    def mapped(self) -> set[str]:
        """The fields fed: by a column, or by a fixed value."""
        return {name for name, header in self.columns.items() if header} | set(self.constants)

    def to_json(self) -> str:
        data = {"kind": self.kind, "columns": self.columns, "values": self.values}
        if any(f.type == "datetime" for f in fields(self.kind)):
            data["date_order"] = self.date_order
        if self.sheet:
            data["sheet"] = self.sheet
        if self.skip_rows is not None:
            data["skip_rows"] = self.skip_rows
        if self.constants:
            data["constants"] = self.constants
        if self.kind in ("orders", "lines"):
            data["totals"] = self.totals
        return json.dumps(data, ensure_ascii=False, indent=2)


TOTALS = ("keep", "lines")


def check_totals(value) -> str:
    """How an order's total is set (Mapping.totals), refused unless one of TOTALS."""
    text = str(value if value is not None else "keep").strip().lower()
    if text not in TOTALS:
        raise InvalidInput("import.bad_totals", value=text[:40], allowed=", ".join(TOTALS))
    return text


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput("import.bad_kind", value=str(kind)[:40], allowed=", ".join(KINDS))
    return kind


def propose(kind: str, source: Source) -> Mapping:
    """Columns matched to fields by header (exact names first, then known aliases), values matched to codes."""
    check_kind(kind)
    taken: set[str] = set()
    columns = {}
    for f in fields(kind):
        header = _match_header(f, source.headers, taken)
        if header:
            columns[f.name] = header
            taken.add(header)
    mapping = Mapping(kind, columns)
    mapping.values = {name: propose_values(name, distinct_values(source, mapping, name))
                      for name in VALUE_FIELDS if name in columns}
    return mapping


def _match_header(f, headers: list[str], taken: set[str]) -> str | None:
    free = [h for h in headers if h not in taken]
    for wanted in (norm(f.name),) + tuple(norm(a) for a in f.aliases):
        for header in free:
            if norm(header) == wanted:
                return header
    return None


def distinct_values(source: Source, mapping: Mapping, name: str) -> list[str]:
    """The different (trimmed, non-empty) values of a mapped column, most frequent first, at most MAX_VALUES."""
    if name in mapping.constants:
        return [mapping.constants[name].strip()] if mapping.constants[name].strip() else []
    index = mapping.column_index(source, name)
    if index is None:
        return []
    with closing(duckdb.connect()) as con:   # the file's own DuckDB, whatever the app's database is
        return [r[0] for r in con.execute(
            f"SELECT v FROM (SELECT trim(CAST(c{index} AS VARCHAR)) AS v FROM {source.scan()} s) WHERE v <> ''"
            " GROUP BY v ORDER BY count(*) DESC, v LIMIT ?", [MAX_VALUES]).fetchall()]


def _words(name: str) -> dict[str, str]:
    """Normalised word -> code: VoidDesk's own codes and catalogue labels, then the known synonyms."""
    codes, synonyms, label_kind = VALUE_FIELDS[name]
    words = {}
    for code in codes:
        for lang in i18n.LANGUAGES:
            words.setdefault(norm(i18n.label(label_kind, code, lang)), code)
        words.setdefault(norm(code), code)
        for synonym in synonyms.get(code, ()):
            words.setdefault(norm(synonym), code)
    return words


def propose_values(name: str, values: list[str]) -> dict[str, str]:
    words = _words(name)
    return {v: words[norm(v)] for v in values if norm(v) in words}


def with_proposals(mapping: Mapping, source: Source) -> Mapping:
    """The mapping with values it does not mention proposed as for a new file (a saved mapping meets values a
    later export has that the first one did not); what the mapping says always wins."""
    values = {name: dict(chosen) for name, chosen in mapping.values.items() if name in RECODED}
    for name in VALUE_FIELDS:
        if name in mapping.mapped():
            proposed = propose_values(name, distinct_values(source, mapping, name))
            values[name] = {**proposed, **mapping.values.get(name, {})}
    return Mapping(mapping.kind, dict(mapping.columns), values, mapping.date_order, mapping.sheet, mapping.skip_rows,
                   dict(mapping.constants), mapping.totals)


def from_json(text: str, kind: str) -> Mapping:
    """A mapping file as saved by the wizard; refused when it is not one, or is for another kind of import."""
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidInput("import.bad_mapping_file") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise InvalidInput("import.bad_mapping_file")
    if data.get("kind", kind) != kind:
        raise InvalidInput("import.mapping_other_kind", kind=str(data.get("kind"))[:40], wanted=kind)
    columns = _current_names(kind, {str(k): str(v) for k, v in data["columns"].items() if v})
    _refuse_unknown(kind, columns)
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise InvalidInput("import.bad_mapping_file")
    strange = sorted(set(values) - set(CODED))
    if strange:
        raise InvalidInput("import.mapping_unknown_field", fields=", ".join(strange)[:200], valid=", ".join(CODED))
    cleaned = {name: {str(k): str(v) for k, v in values.get(name, {}).items() if v}
               for name in CODED if name in values}
    sheet = data.get("sheet")
    if sheet is not None and not isinstance(sheet, (str, int)):
        raise InvalidInput("import.bad_mapping_file")
    constants = data.get("constants") or {}
    if not isinstance(constants, dict) or not all(isinstance(v, (str, int, float)) for v in constants.values()):
        raise InvalidInput("import.bad_mapping_file")
    constants = _current_names(kind, {str(k): str(v).strip() for k, v in constants.items() if str(v).strip()})
    _refuse_unknown(kind, constants)
    return Mapping(kind, columns, cleaned, check_order(data.get("date_order")), str(sheet) if sheet else None,
                   check_skip_rows(data.get("skip_rows")), constants, check_totals(data.get("totals")))


def template(kind: str) -> str:
    """A mapping file to fill in (`import KIND --template`): every field with what it takes, required ones marked,
    the accepted values of coded fields, fixed values and the options; keys starting with "_" are notes, ignored
    when the file is read back."""
    check_kind(kind)
    specs = fields(kind)
    data = {
        "kind": kind,
        "_about": "A VoidDesk import mapping. Under \"columns\", write the title of the file's column that feeds each"
                  " field (leave \"\" for none); \"_fields\" says what each field takes. Keys starting with _ are"
                  " notes and are ignored. Use it with: python -m lib.cli import " + kind + " FILE --mapping THIS_FILE",
        "columns": {f.name: "" for f in specs},
        "_fields": {f.name: ("required; " if f.required else "optional; ") + ABOUT_IN_KIND.get((kind, f.name),
                                                                                          ABOUT[f.name])
                    for f in specs},
    }
    coded = [name for name in CODED if name in {f.name for f in specs}]
    if coded:
        data["values"] = {name: {} for name in coded}
        data["_values"] = {name: _values_note(name) for name in coded}
    data["constants"] = {}
    data["_constants"] = ("One value for every row, for a field the file has no column for, e.g. {\"warehouse\": \"BJ\"}"
                          " (a field takes a column or a fixed value, not both).")
    if any(f.type == "datetime" for f in specs):
        data["date_order"] = "auto"
        data["_date_order"] = ("How to read 05/03/2026: auto (the values decide; a file with both orders is refused),"
                               " day_first or month_first.")
    if kind in ("orders", "lines"):
        data["totals"] = "keep"
        data["_totals"] = ("An order's total when the file has one: keep (the ERP's, with tax, discount and freight) or"
                           " lines (the sum of its lines). Without a total column an order's total is the sum of its"
                           " lines." + (" A lines import keeps an order's total from the ERP unless this says lines."
                                        if kind == "lines" else ""))
    data["skip_rows"] = None
    data["_skip_rows"] = "Rows above the column titles to skip (title rows); null: the header row is found by itself."
    data["sheet"] = None
    data["_sheet"] = "Excel: the sheet to read, by name or number from 1; null: the sheet with the widest table."
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _values_note(name: str) -> str:
    if name in RECODED:
        what = {"warehouse": "warehouse", "category": "category"}[name]
        return (f"The file's word for a {what} -> its VoidDesk code, e.g. {{\"上海一号库\": \"SH\"}}; words not listed"
                f" are looked up as a {what} code or name.")
    return (f"The file's word -> one of {', '.join(VALUE_FIELDS[name][0])}, e.g. {{\"已发货\": \"shipped\"}};"
            " common English and Chinese words are recognised without being listed.")


def _current_names(kind: str, named: dict) -> dict:
    """{field: x} with the field names of earlier mapping files (fields.FORMER_NAMES) read as today's."""
    former = FORMER_NAMES.get(kind, {})
    return {former.get(name, name): value for name, value in named.items()}


def _refuse_unknown(kind: str, names) -> None:
    unknown = sorted(set(names) - {f.name for f in FIELDS[kind]})
    if unknown:
        raise InvalidInput("import.mapping_unknown_field", fields=", ".join(unknown)[:200],
                           valid=", ".join(f.name for f in FIELDS[kind]))


def check(mapping: Mapping, source: Source, lang: str = "en") -> None:
    """Refuse a mapping that names columns the file lacks, codes that do not exist, or leaves a required field
    without a column."""
    _refuse_unknown(mapping.kind, mapping.constants)
    both = sorted(name for name in mapping.constants if mapping.columns.get(name))
    if both:
        raise InvalidInput("import.mapping_constant_and_column", fields=", ".join(both))
    too_long = sorted(name for name, value in mapping.constants.items() if len(value) > MAX_CONSTANT)
    if too_long:
        raise InvalidInput("import.mapping_constant_too_long", fields=", ".join(too_long), limit=MAX_CONSTANT)
    missing_columns = sorted({h for h in mapping.columns.values() if h and h not in source.headers})
    if missing_columns:
        raise InvalidInput("import.mapping_column_missing_in_sheet" if source.sheet else "import.mapping_column_missing",
                           columns=", ".join(missing_columns)[:200], sheet=source.sheet,
                           found=", ".join(source.headers)[:300])
    for name, chosen in mapping.values.items():
        if name in RECODED:   # codes of the database's own, looked up with the rows (import.reject.unknown_…)
            continue
        codes = VALUE_FIELDS[name][0]
        wrong = sorted({c for c in chosen.values() if c not in codes})
        if wrong:
            raise InvalidInput("import.mapping_bad_value", value=", ".join(wrong)[:100], allowed=", ".join(codes))
    needed = [f.name for f in fields(mapping.kind) if f.required] + _also_needed(mapping)
    missing = [name for name in needed if name not in mapping.mapped()]
    if missing:
        raise InvalidInput("import.mapping_incomplete", fields=i18n.join_words(
            [i18n.t(f"import.field.{name}", lang) for name in missing], lang))
    if mapping.kind == "orders" and not mapping.mapped() & {"customer_code", "customer_name"}:
        raise InvalidInput("import.mapping_needs_customer")


def _also_needed(mapping: Mapping) -> list[str]:
    """Orders: a file with lines needs quantities. (Without lines or a total, an order's total is 0 until a lines
    import gives it the sum of its lines.)"""
    return ["qty"] if mapping.kind == "orders" and "sku" in mapping.mapped() else []
