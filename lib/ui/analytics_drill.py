"""Showing an analytics chart with its numbers, and the drill-down from a clicked mark to Search (SPEC §8)."""
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib.charts import png_config
from lib.ui.context import tr
from lib.ui.table_export import download_buttons

SEARCH_PAGE = "pages/search.py"


@st.fragment   # a click on a mark only drills: it reruns this chart on its way to Search, not the dashboard
def show_chart(fig: go.Figure, key: str, *, table: pd.DataFrame, name: str,
               drill: Callable[[list], dict] | None = None, hint_key: str = "dash.drill_hint") -> None:
    """The chart (PNG from its toolbar), CSV/Excel of its numbers under it, and — when `drill` is given —
    a click on a mark opens Search with drill(customdata of the mark) as URL parameters."""
    event = st.plotly_chart(fig, width="stretch", key=key, config=png_config(name), theme="streamlit",
                            on_select="rerun" if drill else "ignore", selection_mode=("points",))
    with st.container(horizontal=True, vertical_alignment="center"):
        download_buttons(table, name, key)
        if drill:
            st.caption(tr(hint_key))
    picked = picked_data(event) if drill else None
    if picked is not None:
        st.switch_page(SEARCH_PAGE, query_params=drill(picked))


def picked_data(event) -> list | None:
    """The customdata of the first selected mark, if any (a bare value becomes a one-item list)."""
    points = event.selection.points if event and event.selection else []
    for point in points:
        data = point.get("customdata")
        if data is not None:
            return data if isinstance(data, list) else [data]
    return None


def empty_chart(title: str) -> None:
    """A friendly note where a chart has nothing to show."""
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(tr("dash.no_data"))
