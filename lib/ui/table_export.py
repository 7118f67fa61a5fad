"""Download buttons for a small table shown on a page: CSV and Excel (SPEC §8 "every table can be exported")."""
import pandas as pd
import streamlit as st

from lib.queries.frame_export import frame_csv, frame_excel
from lib.ui.context import tr

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    """Two small download buttons side by side; `name` is the file name without extension."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(tr("table.download_csv"), frame_csv(frame), file_name=f"{name}.csv", mime="text/csv",
                         key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    right.download_button(tr("table.download_xlsx"), frame_excel(frame, name), file_name=f"{name}.xlsx",
                          mime=XLSX_MIME, key=f"{key}_xlsx", icon=":material/download:", on_click="ignore")
