"""Import wizard, step 2: which column feeds which field, which source value means which status (proposed from
the headers and values, or from a saved mapping), how to read dates like 05/03/2026, and the mapping as a JSON file
for the command line."""
import hashlib

import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.imports import Mapping, propose
from lib.imports.dates import ORDERS, Detection, date_columns, detect_date_order, refuse_mixed
from lib.imports.fields import RECODED, VALUE_FIELDS, fields
from lib.imports.mapping import TOTALS, check, distinct_values, with_proposals
from lib.ui.context import label, lang, md_escape, show_error, tr
from lib.ui.import_upload import Upload

COLUMNS_PER_ROW = 3


def mapping_step(db, upload: Upload) -> Mapping | None:
    """The mapping the user settled on, or None (with the reason shown) while it is incomplete."""
    saved = upload.saved_mapping
    proposed = with_proposals(saved, upload.source) if saved else propose(upload.kind, upload.source)
    st.subheader(tr("import.step_mapping"))
    st.caption(tr("import.mapping_hint"))
    columns, constants = _columns(upload, proposed)
    mapping = Mapping(upload.kind, columns, sheet=upload.source.sheet, constants=constants,
                      skip_rows=upload.source.header_row - 1 if upload.source.header_row > 1 else None)
    mapping.values = {name: _values(upload, mapping, proposed, name) for name in VALUE_FIELDS
                      if name in mapping.mapped()}
    mapping.values.update({name: _recoded(db, upload, mapping, proposed, name) for name in RECODED
                           if name in mapping.mapped() and name in {f.name for f in fields(upload.kind)}})
    mapping.totals = _totals(upload, mapping, proposed.totals)
    found = _detected(db, upload, mapping)
    mapping.date_order = _date_order(upload, proposed.date_order, found) if found else proposed.date_order
    st.download_button(tr("import.download_mapping"), mapping.to_json().encode("utf-8"),
                       file_name=f"voiddesk-{upload.kind}-mapping.json", mime="application/json",
                       icon=":material/download:", key=f"import_mapping_json_{upload.token}", on_click="ignore")
    try:
        check(mapping, upload.source, lang())
        if mapping.date_order == "auto" and found:
            refuse_mixed(found)
    except VoidDeskError as exc:
        show_error(exc)
        return None
    return mapping


def _totals(upload: Upload, mapping: Mapping, proposed: str) -> str:
    """Keep the ERP's order totals, or make them the sum of the lines: asked when both are there (an orders file
    with lines and a total, or a lines file for orders that may have a total)."""
    asked = (upload.kind == "orders" and {"sku", "total"} <= mapping.mapped()) or upload.kind == "lines"
    if not asked:
        return proposed
    names = {t: tr(f"import.totals.{t}") for t in TOTALS}
    return st.radio(tr("import.totals"), TOTALS, index=TOTALS.index(proposed), format_func=names.get,
                    horizontal=True, key=f"import_totals_{upload.token}", help=tr("import.totals_help"))


def _detected(db, upload: Upload, mapping: Mapping) -> Detection | None:
    """What the mapped date columns' values say about day/month order (kept while they stay the same); None when no
    date column holding text is mapped."""
    columns = tuple(date_columns(upload.source, mapping))
    if not columns:
        return None
    key = (upload.token, columns)
    kept = st.session_state.get("import_dates")
    if not kept or kept["key"] != key:
        kept = {"key": key, "found": detect_date_order(upload.source, mapping)}
        st.session_state["import_dates"] = kept
    return kept["found"]


def _date_order(upload: Upload, proposed: str, found: Detection) -> str:
    """The date-order choice, each option naming the example that shows it, if the file has one."""
    named = {order: tr(f"import.date_order.{order}") for order in ORDERS}
    examples = {"day_first": found.day, "month_first": found.month}
    for order, example in examples.items():
        if example:
            named[order] = tr("import.date_order.detected", order=tr(f"import.date_order.name.{order}"),
                              example=example[0])
    if found.order in examples:
        named["auto"] = tr("import.date_order.auto_found", order=named[found.order])
    chosen = st.selectbox(tr("import.date_order"), ORDERS, index=ORDERS.index(proposed), format_func=named.get,
                          key=f"import_date_order_{upload.token}", help=tr("import.date_order_help"))
    if chosen == "auto" and found.order is None and found.ambiguous:
        st.warning(tr("import.date_order.ambiguous", example=md_escape(found.ambiguous[0]), row=found.ambiguous[1]),
                   icon=":material/event:")
    return chosen


FIXED = "\x00fixed"   # the choice "a fixed value" (no header holds a NUL: such a file is refused as binary)


def _columns(upload: Upload, proposed: Mapping) -> tuple[dict[str, str], dict[str, str]]:
    """({field: column}, {field: fixed value}) as chosen; a field the file lacks can take one value for every row."""
    headers = upload.source.headers
    options = [""] + headers + [FIXED]
    shown = {"": tr("import.not_mapped"), FIXED: tr("import.fixed_value_option"), **{h: h for h in headers}}
    chosen, constants = {}, {}
    specs = fields(upload.kind)
    for start in range(0, len(specs), COLUMNS_PER_ROW):
        cells = st.columns(COLUMNS_PER_ROW)
        for cell, f in zip(cells, specs[start:start + COLUMNS_PER_ROW]):
            wanted = FIXED if f.name in proposed.constants else proposed.columns.get(f.name)
            title = tr(f"import.field.{f.name}") + (" *" if f.required else "")
            header = cell.selectbox(title, options, index=options.index(wanted) if wanted in options else 0,
                                    key=f"import_col_{upload.token}_{f.name}",
                                    format_func=shown.get)
            if header == FIXED:
                value = cell.text_input(tr("import.fixed_value", field=tr(f"import.field.{f.name}")),
                                        value=proposed.constants.get(f.name, ""), max_chars=200,
                                        key=f"import_fixed_{upload.token}_{f.name}",
                                        placeholder=tr("import.fixed_value_placeholder"))
                if value.strip():
                    constants[f.name] = value.strip()
            elif header:
                chosen[f.name] = header
    return chosen, constants


_KNOWN = {"warehouse": "SELECT code, name_en, name_zh FROM warehouses ORDER BY code",
          "category": "SELECT code, name_en, name_zh FROM categories ORDER BY sort_order, code"}


def _recoded(db, upload: Upload, mapping: Mapping, proposed: Mapping, name: str) -> dict[str, str]:
    """The file's words for a warehouse or category that are no code or name of one: a choice for each (the rest
    are looked up as they are)."""
    with db.read() as cur:
        known = cur.execute(_KNOWN[name]).fetchall()
    names = {str(v).strip().lower(): code for code, *labels in known for v in (code, *labels) if v}
    words = [w for w in distinct_values(upload.source, mapping, name) if w.lower() not in names]
    suggested = proposed.values.get(name, {})
    if not words:
        return {w: c for w, c in suggested.items()}
    st.markdown(f"**{tr('import.values_title', field=tr(f'import.field.{name}'))}**")
    codes = [code for code, *_ in known]
    shown = {"": tr("import.not_mapped_value"),
             **{code: f"{code} · {zh if lang() == 'zh' else en}" for code, en, zh in known}}
    chosen, cells = {}, st.columns(COLUMNS_PER_ROW)
    for i, word in enumerate(words):
        code = suggested.get(word)
        digest = hashlib.sha1(f"{mapping.columns.get(name, FIXED)}|{word}".encode()).hexdigest()[:10]
        picked = cells[i % COLUMNS_PER_ROW].selectbox(
            tr("import.value_label", value=md_escape(word)), [""] + codes,
            index=([""] + codes).index(code) if code in codes else 0, format_func=shown.get,
            key=f"import_val_{upload.token}_{name}_{digest}")
        if picked:
            chosen[word] = picked
    return chosen


def _values(upload: Upload, mapping: Mapping, proposed: Mapping, name: str) -> dict[str, str]:
    """One choice per different value of the column (most frequent first)."""
    codes, _, label_kind = VALUE_FIELDS[name]
    values = distinct_values(upload.source, mapping, name)
    if not values:
        return {}
    suggested = proposed.values.get(name, {})
    st.markdown(f"**{tr('import.values_title', field=tr(f'import.field.{name}'))}**")
    options = [""] + list(codes)
    shown = {"": tr("import.not_mapped_value"), **{c: label(label_kind, c) for c in codes}}
    chosen = {}
    cells = st.columns(COLUMNS_PER_ROW)
    for i, value in enumerate(values):
        code = suggested.get(value)
        digest = hashlib.sha1(f"{mapping.columns.get(name, FIXED)}|{value}".encode()).hexdigest()[:10]
        picked = cells[i % COLUMNS_PER_ROW].selectbox(
            tr("import.value_label", value=md_escape(value)), options, index=options.index(code) if code in codes else 0,
            key=f"import_val_{upload.token}_{name}_{digest}",
            format_func=shown.get)
        if picked:
            chosen[value] = picked
    missing = len(values) - len(chosen)
    if missing:
        st.caption(tr("import.values_unmapped", n=i18n.fmt_int(missing, lang())))
    return chosen
