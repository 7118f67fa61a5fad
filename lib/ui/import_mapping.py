"""Import wizard, step 2: which column feeds which field, which source value means which status (proposed from
the headers and values, or from a saved mapping), and the mapping as a JSON file for the command line."""
import hashlib

import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.imports import Mapping, propose
from lib.imports.fields import VALUE_FIELDS, fields
from lib.imports.mapping import check, distinct_values, with_proposals
from lib.ui.context import label, lang, md_escape, show_error, tr
from lib.ui.import_upload import Upload

COLUMNS_PER_ROW = 3


def mapping_step(upload: Upload) -> Mapping | None:
    """The mapping the user settled on, or None (with the reason shown) while it is incomplete."""
    saved = upload.saved_mapping
    proposed = with_proposals(saved, upload.source) if saved else propose(upload.kind, upload.source)
    st.subheader(tr("import.step_mapping"))
    st.caption(tr("import.mapping_hint"))
    mapping = Mapping(upload.kind, _columns(upload, proposed))
    mapping.values = {name: _values(upload, mapping, proposed, name) for name in VALUE_FIELDS
                      if name in mapping.mapped()}
    st.download_button(tr("import.download_mapping"), mapping.to_json().encode("utf-8"),
                       file_name=f"voiddesk-{upload.kind}-mapping.json", mime="application/json",
                       icon=":material/download:", key=f"import_mapping_json_{upload.token}", on_click="ignore")
    try:
        check(mapping, upload.source, lang())
    except VoidDeskError as exc:
        show_error(exc)
        return None
    return mapping


def _columns(upload: Upload, proposed: Mapping) -> dict[str, str]:
    headers = upload.source.headers
    options = [""] + headers
    shown = {"": tr("import.not_mapped"), **{h: h for h in headers}}   # made in this run's language
    chosen = {}
    specs = fields(upload.kind)
    for start in range(0, len(specs), COLUMNS_PER_ROW):
        cells = st.columns(COLUMNS_PER_ROW)
        for cell, f in zip(cells, specs[start:start + COLUMNS_PER_ROW]):
            wanted = proposed.columns.get(f.name)
            title = tr(f"import.field.{f.name}") + (" *" if f.required else "")
            header = cell.selectbox(title, options, index=options.index(wanted) if wanted in headers else 0,
                                    key=f"import_col_{upload.token}_{f.name}",
                                    format_func=shown.get)
            if header:
                chosen[f.name] = header
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
        digest = hashlib.sha1(f"{mapping.columns[name]}|{value}".encode()).hexdigest()[:10]
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
