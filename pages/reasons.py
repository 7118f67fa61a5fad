"""The reason catalogue (SPEC §9): void and return reasons with their recent use; add, rename, retire, re-order."""
import streamlit as st

from lib.queries.reasons import other_share, reason_catalogue
from lib.ui import admin_reasons as parts
from lib.ui.context import database, tr
from lib.ui.guard import signed_in_user

db = database()
user = signed_in_user("reasons.edit")

st.title(tr("reasons.title"))
st.caption(tr("reasons.subtitle"))
parts.show_flash()
kind = st.segmented_control(tr("reasons.kind"), ["void", "return"], default="void", required=True,
                            format_func=lambda k: tr(f"reasons.kinds.{k}"), key="reasons_kind")
catalogue = reason_catalogue(db, user, kind)
parts.other_share_panel(other_share(catalogue), kind)
parts.catalogue_table(catalogue, kind)
parts.edit_reason(db, user, kind, catalogue)
parts.add_reason_form(db, user, kind)
