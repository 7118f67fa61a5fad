"""The rejected rows in the user's language: a short table to show and a CSV file with every problem (row number
in the source, field, value, reason). Messages are filled in SQL from the catalogue, so a file with a million
problems never becomes a million Python strings."""
import os
import tempfile

import pandas as pd
import pyarrow as pa

from lib import i18n
from lib.db import sql_string
from lib.imports.fields import fields
from lib.queries.export import neutralise_sql

SHOWN = 200
_BOM = b"\xef\xbb\xbf"   # so Excel opens the Chinese text of the report as UTF-8


def _register_words(cur, kind: str, lang: str) -> None:
    words = i18n.catalogue(lang)
    english = i18n.catalogue("en")
    reasons = sorted(k for k in english if k.startswith(("import.reject.", "import.conflict.")))
    cur.register("imp_reason_words", pa.table({"reason": reasons,
                                               "template": [words.get(k) or english[k] for k in reasons]}))
    statuses = ["pending", "processing", "shipped", "completed", "voided", "archived"]
    cur.register("imp_status_words", pa.table({"code": statuses,
                                               "label": [i18n.label("status", c, lang) for c in statuses]}))
    names = [f.name for f in fields(kind)] + ["customer"]
    cur.register("imp_field_words", pa.table({"field": names,
                                              "label": [i18n.t(f"import.field.{n}", lang) for n in names]}))


def _messages_sql(limit: bool, table: str = "imp_rejects") -> str:
    return f"""SELECT r._row AS "row", coalesce(f.label, r.field) AS field, coalesce(r.value, '') AS value,
        replace(replace(replace(coalesce(w.template, r.reason), '{{value}}', coalesce(r.value, '–')),
                '{{info}}', coalesce(si.label, r.info, '')), '{{extra}}', coalesce(se.label, r.extra, '')) AS reason
        FROM {table} r LEFT JOIN imp_reason_words w ON w.reason = r.reason
        LEFT JOIN imp_field_words f ON f.field = r.field
        LEFT JOIN imp_status_words si ON si.code = r.info AND r.field = 'status'
        LEFT JOIN imp_status_words se ON se.code = r.extra AND r.field = 'status'
        ORDER BY r._row, r.field{' LIMIT ' + str(SHOWN) if limit else ''}"""


def problems(cur, kind: str, lang: str, table: str = "imp_rejects") -> pd.DataFrame:
    """The first SHOWN problems (or an upsert's conflicts: table imp_conflicts), in row order: row, field, value,
    reason."""
    _register_words(cur, kind, lang)
    return cur.execute(_messages_sql(limit=True, table=table)).df()


def report_csv(cur, kind: str, lang: str, table: str = "imp_rejects") -> bytes:
    """Every problem (or conflict) as CSV (UTF-8 with BOM), headers in the user's language."""
    _register_words(cur, kind, lang)
    heads = [i18n.t(f"import.report.{c}", lang).replace('"', "") for c in ("row", "field", "value", "reason")]
    # formulas neutralised as in every export (the file's values, and the messages quoting them, come from outside)
    select = (f'SELECT "row" AS "{heads[0]}", {neutralise_sql("field")} AS "{heads[1]}",'
              f' {neutralise_sql("value")} AS "{heads[2]}", {neutralise_sql("reason")} AS "{heads[3]}"'
              f' FROM ({_messages_sql(limit=False, table=table)})')
    fd, path = tempfile.mkstemp(suffix=".csv", prefix="voiddesk-rejects-")
    os.close(fd)
    try:
        cur.execute(f"COPY ({select}) TO {sql_string(path)} (FORMAT csv, HEADER)")
        with open(path, "rb") as f:
            return _BOM + f.read()
    finally:
        os.unlink(path)
