"""Import orders, order lines, customers, products or stock from CSV, Excel or Parquet (SPEC §9): upload, map
columns and values, check and preview every row, then load all of it or nothing."""
import streamlit as st

from lib.ui.context import database, tr
from lib.ui.guard import signed_in_user
from lib.ui.import_mapping import mapping_step
from lib.ui.import_preview import preview_step, show_loaded
from lib.ui.import_upload import upload_step

db = database()
user = signed_in_user("import.run")

st.title(tr("import.title"))
show_loaded()
upload = upload_step(db)
if upload is None:
    st.stop()
mapping = mapping_step(db, upload)
if mapping is None:
    st.stop()
preview_step(db, user, upload, mapping)
