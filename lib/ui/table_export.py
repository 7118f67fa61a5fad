"""Download buttons for a small table shown on a page: CSV and Excel (SPEC §8 "every table can be exported")."""
import pandas as pd
import streamlit as st

from lib.queries.frame_export import frame_csv, frame_excel
from lib.ui.context import tr

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_buttons(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Excel buttons as wide as their text, placed in the caller's container; the files are made only
    when clicked. `name` is the file name without extension."""
    st.download_button(tr("table.download_csv"), lambda: frame_csv(frame), file_name=f"{name}.csv",
                       mime="text/csv", key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    st.download_button(tr("table.download_xlsx"), lambda: frame_excel(frame, name), file_name=f"{name}.xlsx",
                       mime=XLSX_MIME, key=f"{key}_xlsx", icon=":material/download:", on_click="ignore")


def table_downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    """download_buttons side by side on a row of their own."""
    with st.container(horizontal=True):
        download_buttons(frame, name, key)
