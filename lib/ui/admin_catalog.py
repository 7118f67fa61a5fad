"""The warehouses & categories page's parts: the two tables, renaming (and moving categories), adding.

`kind` is "warehouse" or "category" throughout; widget keys carry it so the two halves never collide.
"""
import pandas as pd
import streamlit as st

from lib.db import Database
from lib.domain import User
from lib.errors import VoidDeskError
from lib.services import catalog_admin as service
from lib.ui import admin_common as common
from lib.ui.context import lang, md_escape, show_error, tr
from lib.ui.tables import show_table

FLASH = "catalog_flash"
ADD = {"warehouse": service.add_warehouse, "category": service.add_category}
RENAME = {"warehouse": service.rename_warehouse, "category": service.rename_category}
PLACEHOLDER = {"warehouse": "SH", "category": "phones"}
CODE_CHARS = {"warehouse": 10, "category": 20}
# The count shown beside each entry: SKUs with stock rows in a warehouse, products in a category.
COUNT = {"warehouse": "skus", "category": "products"}


def show_flash() -> None:
    common.show_flash(FLASH)


def _name(row: dict) -> str:
    return row["name_zh"] if lang() == "zh" else row["name_en"]


def entry_table(rows: list[dict], kind: str) -> None:
    """Code, both names and the count, in list order; a hint instead while there are none."""
    if not rows:
        st.info(tr(f"catalog.empty_{kind}"), icon=":material/info:")
        return
    count = COUNT[kind]
    frame = pd.DataFrame(rows, columns=["code", "name_en", "name_zh", count])
    show_table(frame, hide_index=True, width="stretch", key=f"catalog_table_{kind}", column_config={
        "code": tr("catalog.code"), "name_en": tr("catalog.name_en"), "name_zh": tr("catalog.name_zh"),
        count: st.column_config.NumberColumn(tr(f"catalog.{count}"), format="%d")})


def edit_entry(db: Database, user: User, kind: str, rows: list[dict]) -> None:
    """Pick one entry; rename it, and move a category up or down."""
    if not rows:
        return
    st.subheader(tr(f"catalog.edit_title_{kind}"))
    by_code = {r["code"]: r for r in rows}
    code = st.selectbox(tr(f"catalog.pick_{kind}"), list(by_code), key=f"catalog_pick_{kind}",
                        format_func=lambda c: f"{_name(by_code[c])} ({c})")
    if code is None:
        return
    if kind == "category":
        _move_buttons(db, user, code, list(by_code))
    _rename_form(db, user, kind, by_code[code])


def _move_buttons(db: Database, user: User, code: str, codes: list[str]) -> None:
    step = common.clicked_step(codes, code, "catalog", "catalog")
    if step is None:
        return
    try:
        service.move_category(db, user, code, step)
        common.flash_and_rerun(FLASH, tr("catalog.moved", code=md_escape(code)))
    except VoidDeskError as exc:
        show_error(exc)


def _rename_form(db: Database, user: User, kind: str, row: dict) -> None:
    suffix = f"{kind}_{row['code']}"
    with st.form(f"catalog_edit_{suffix}"):
        st.text_input(tr("catalog.code"), value=row["code"], disabled=True, help=tr("catalog.code_fixed"))
        cols = st.columns(2)
        name_en = cols[0].text_input(tr("catalog.name_en"), value=row["name_en"], max_chars=service.MAX_NAME,
                                     key=f"catalog_en_{suffix}")
        name_zh = cols[1].text_input(tr("catalog.name_zh"), value=row["name_zh"], max_chars=service.MAX_NAME,
                                     key=f"catalog_zh_{suffix}")
        submitted = st.form_submit_button(tr("catalog.save"), type="primary", key=f"catalog_save_{suffix}")
    if not submitted:
        return
    if (name_en, name_zh) == (row["name_en"], row["name_zh"]):
        st.info(tr("catalog.nothing_changed"))
        return
    try:
        RENAME[kind](db, user, row["code"], name_en, name_zh)
        common.flash_and_rerun(FLASH, tr(f"catalog.renamed_{kind}", code=md_escape(row["code"])))
    except VoidDeskError as exc:
        show_error(exc)


def add_form(db: Database, user: User, kind: str) -> None:
    """A new warehouse or category: its code (fixed for ever) and both names."""
    keys = [f"catalog_add_{part}_{kind}" for part in ("code", "en", "zh")]
    st.subheader(tr(f"catalog.add_title_{kind}"))
    with st.form(f"catalog_add_{kind}"):
        cols = st.columns(3)
        code = cols[0].text_input(tr("catalog.code"), key=keys[0], max_chars=CODE_CHARS[kind],
                                  placeholder=PLACEHOLDER[kind], help=tr(f"catalog.code_help_{kind}"))
        name_en = cols[1].text_input(tr("catalog.name_en"), key=keys[1], max_chars=service.MAX_NAME)
        name_zh = cols[2].text_input(tr("catalog.name_zh"), key=keys[2], max_chars=service.MAX_NAME)
        submitted = st.form_submit_button(tr(f"catalog.add_{kind}"), icon=":material/add:",
                                          key=f"catalog_add_submit_{kind}")
    if not submitted:
        return
    try:
        entry = ADD[kind](db, user, code, name_en, name_zh)
    except VoidDeskError as exc:
        show_error(exc)
        return
    for key in keys:            # an empty form for the next one
        st.session_state.pop(key, None)
    common.flash_and_rerun(FLASH, tr(f"catalog.added_{kind}", code=md_escape(entry["code"])))
