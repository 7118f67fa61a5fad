"""The reason catalogue page's parts: the "other" share, the table, the edit form, moving, adding."""
import pandas as pd
import streamlit as st

from lib import i18n
from lib.db import Database
from lib.domain import User
from lib.errors import VoidDeskError
from lib.queries.reasons import OTHER_HINT_SHARE, USAGE_DAYS
from lib.services.reasons import MAX_LABEL, MAX_SORT_ORDER, add_reason, move_reason, update_reason
from lib.ui import admin_common as common
from lib.ui.context import lang, md_escape, show_error, tr
from lib.ui.tables import show_table

FLASH = "reasons_flash"
ADD_KEYS = ("reason_add_code", "reason_add_en", "reason_add_zh", "reason_add_note")


def show_flash() -> None:
    common.show_flash(FLASH)


def _done(text: str) -> None:
    common.flash_and_rerun(FLASH, text)


def other_share_panel(share: dict, kind: str) -> None:
    """The share of uses with the "other" reason, with a hint when it is high."""
    value = i18n.fmt_pct(share["share"], lang()) if share["share"] is not None else "–"
    st.metric(tr(f"reasons.other_share_{kind}", days=USAGE_DAYS), value,
              help=tr("reasons.other_share_help", other=i18n.fmt_int(share["other"], lang()),
                      total=i18n.fmt_int(share["total"], lang())))
    st.caption(tr("reasons.other_share_counts", other=i18n.fmt_int(share["other"], lang()),
                  total=i18n.fmt_int(share["total"], lang()), days=USAGE_DAYS))
    if share["high"]:
        st.warning(tr("reasons.other_high", limit=i18n.fmt_pct(OTHER_HINT_SHARE, lang(), 0)),
                   icon=":material/lightbulb:")


def catalogue_table(rows: list[dict], kind: str) -> None:
    frame = pd.DataFrame(rows, columns=["code", "label_en", "label_zh", "note_required", "active", "sort_order",
                                        "uses"])
    show_table(frame, hide_index=True, width="stretch", key=f"reasons_table_{kind}", column_config={
        "code": tr("reasons.code"), "label_en": tr("reasons.label_en"), "label_zh": tr("reasons.label_zh"),
        "note_required": st.column_config.CheckboxColumn(tr("reasons.note_required")),
        "active": st.column_config.CheckboxColumn(tr("reasons.active")),
        "sort_order": st.column_config.NumberColumn(tr("reasons.sort_order"), format="%d"),
        "uses": st.column_config.NumberColumn(tr(f"reasons.uses_{kind}", days=USAGE_DAYS), format="%d")})


def _choice_label(row: dict) -> str:
    text = f"{row['label_zh'] if lang() == 'zh' else row['label_en']} ({row['code']})"
    return text if row["active"] else f"{text} · {tr('reasons.retired')}"


def edit_reason(db: Database, user: User, kind: str, rows: list[dict]) -> None:
    """Pick one reason; move it up or down, or edit its labels, note rule, active flag and sort order."""
    st.subheader(tr("reasons.edit_title"))
    by_code = {r["code"]: r for r in rows}
    code = st.selectbox(tr("reasons.pick"), list(by_code), format_func=lambda c: _choice_label(by_code[c]),
                        key=f"reason_pick_{kind}")
    if code is None:
        return
    _move_buttons(db, user, kind, code, list(by_code))
    _edit_form(db, user, kind, by_code[code])


def _move_buttons(db: Database, user: User, kind: str, code: str, codes: list[str]) -> None:
    step = common.clicked_step(codes, code, "reason", "reasons")
    if step is None:
        return
    try:
        move_reason(db, user, kind, code, step)
        _done(tr("reasons.moved", code=md_escape(code)))
    except VoidDeskError as exc:
        show_error(exc)


def _edit_form(db: Database, user: User, kind: str, row: dict) -> None:
    code, suffix = row["code"], f"{kind}_{row['code']}"
    with st.form(f"reason_edit_{suffix}"):
        st.text_input(tr("reasons.code"), value=code, disabled=True, help=tr("reasons.code_fixed"))
        cols = st.columns(2)
        label_en = cols[0].text_input(tr("reasons.label_en"), value=row["label_en"], max_chars=MAX_LABEL,
                                      key=f"reason_en_{suffix}")
        label_zh = cols[1].text_input(tr("reasons.label_zh"), value=row["label_zh"], max_chars=MAX_LABEL,
                                      key=f"reason_zh_{suffix}")
        cols = st.columns(3, vertical_alignment="bottom")
        note_required = cols[0].checkbox(tr("reasons.note_required"), value=row["note_required"],
                                         key=f"reason_note_{suffix}")
        active = cols[1].toggle(tr("reasons.active"), value=row["active"], key=f"reason_active_{suffix}",
                                help=tr("reasons.active_help"))
        sort_order = cols[2].number_input(tr("reasons.sort_order"), value=int(row["sort_order"]), step=10,
                                          min_value=0, max_value=MAX_SORT_ORDER, key=f"reason_sort_{suffix}")
        submitted = st.form_submit_button(tr("reasons.save"), type="primary", key=f"reason_save_{suffix}")
    if not submitted:
        return
    wanted = {"label_en": label_en, "label_zh": label_zh, "note_required": note_required, "active": active,
              "sort_order": int(sort_order)}
    if all(wanted[k] == row[k] for k in wanted):
        st.info(tr("reasons.nothing_changed"))
        return
    try:
        update_reason(db, user, kind, code, **wanted)
        _done(tr("reasons.saved", code=md_escape(code)))
    except VoidDeskError as exc:
        show_error(exc)


def add_reason_form(db: Database, user: User, kind: str) -> None:
    """A new reason of `kind`: code (fixed for ever), both labels, whether a note is required."""
    st.subheader(tr(f"reasons.add_title_{kind}"))
    with st.form(f"reason_add_{kind}"):
        cols = st.columns(3)
        code = cols[0].text_input(tr("reasons.code"), key=ADD_KEYS[0], max_chars=40, placeholder="late_delivery",
                                  help=tr("reasons.code_help"))
        label_en = cols[1].text_input(tr("reasons.label_en"), key=ADD_KEYS[1], max_chars=MAX_LABEL)
        label_zh = cols[2].text_input(tr("reasons.label_zh"), key=ADD_KEYS[2], max_chars=MAX_LABEL)
        note_required = st.checkbox(tr("reasons.note_required"), key=ADD_KEYS[3])
        submitted = st.form_submit_button(tr("reasons.add"), icon=":material/add:", key=f"reason_add_submit_{kind}")
    if not submitted:
        return
    try:
        reason = add_reason(db, user, kind, code, label_en, label_zh, note_required=note_required)
    except VoidDeskError as exc:
        show_error(exc)
        return
    for key in ADD_KEYS:            # an empty form for the next one
        st.session_state.pop(key, None)
    _done(tr("reasons.added", code=md_escape(reason["code"])))
