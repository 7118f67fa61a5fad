"""The rules (SPEC §9): approval threshold, restore window, low-stock level, whether sales may request voids."""
import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.queries.settings import read_rules
from lib.services.settings import (MAX_IMPORT_MB, MAX_LOW_STOCK, MAX_THRESHOLD, MAX_WINDOW_HOURS, MIN_IMPORT_MB,
                                   MIN_WINDOW_HOURS, rule_changes, update_rules)
from lib.ui.cached import clear_read_caches
from lib.ui.context import database, lang, md_escape, show_error, tr
from lib.ui.guard import signed_in_user

db = database()
user = signed_in_user("settings.edit")

st.title(tr("rules.title"))
st.caption(tr("rules.subtitle"))
flash = st.session_state.pop("rules_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

with db.read() as cur:
    rules = read_rules(cur)
changes = rule_changes(db)


def last_change(key: str) -> None:
    """Who changed this rule last, and when (nothing for a rule still at its first value)."""
    seen = changes.get(key)
    if seen:
        st.caption(tr("rules.last_change", at=i18n.fmt_datetime(seen["updated_at"], lang()),
                      by=md_escape(seen["updated_by"])))


with st.form("rules"):
    threshold = st.number_input(tr("rules.approval_threshold"), value=float(rules.approval_threshold), min_value=0.0,
                                max_value=float(MAX_THRESHOLD), step=100.0, format="%.2f", key="rules_threshold",
                                help=tr("rules.approval_threshold_help"))
    last_change("approval_threshold")
    window = st.number_input(tr("rules.restore_window_hours"), value=rules.restore_window_hours, step=1,
                             min_value=MIN_WINDOW_HOURS, max_value=MAX_WINDOW_HOURS, key="rules_window",
                             help=tr("rules.restore_window_help", low=MIN_WINDOW_HOURS, high=MAX_WINDOW_HOURS))
    last_change("restore_window_hours")
    low_stock = st.number_input(tr("rules.low_stock_level"), value=rules.low_stock_level, step=1, min_value=0,
                                max_value=MAX_LOW_STOCK, key="rules_low_stock", help=tr("rules.low_stock_help"))
    last_change("low_stock_level")
    sales_may = st.toggle(tr("rules.sales_may_request_voids"), value=rules.sales_may_request_voids,
                          key="rules_sales", help=tr("rules.sales_help"))
    last_change("sales_may_request_voids")
    import_mb = st.number_input(tr("rules.import_max_mb"), value=rules.import_max_mb, step=64, min_value=MIN_IMPORT_MB,
                                max_value=MAX_IMPORT_MB, key="rules_import_mb",
                                help=tr("rules.import_max_help", low=MIN_IMPORT_MB, high=MAX_IMPORT_MB))
    last_change("import_max_mb")
    submitted = st.form_submit_button(tr("rules.save"), type="primary", key="rules_save")

if submitted:
    try:
        changed = update_rules(db, user, approval_threshold=f"{threshold:.2f}", restore_window_hours=int(window),
                               low_stock_level=int(low_stock), sales_may_request_voids=sales_may,
                               import_max_mb=int(import_mb))
    except VoidDeskError as exc:
        show_error(exc)
    else:
        if changed:
            clear_read_caches()
            names = i18n.join_words([tr(f"rules.{key}") for key in changed], lang())
            st.session_state["rules_flash"] = tr("rules.saved", names=names)
            st.rerun()
        st.info(tr("rules.nothing_changed"))
