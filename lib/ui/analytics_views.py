"""Dashboard sections: one chart, its numbers for download and its drill-down each (SPEC §8).

Shared by the void and returns dashboards; `kind` is "void" or "return", `count` the frame's count column.
"""
import pandas as pd
import streamlit as st

from lib import charts
from lib.analytics.filters import AnalyticsFilters, period_end, reason_code_of
from lib.ui.analytics_drill import empty_chart, show_chart
from lib.ui.analytics_filters import grain_control
from lib.ui.context import lang, tr

DIMENSION_TABS = ("category", "sku", "rep", "customer", "warehouse")


def reason_names(labels: dict[str, tuple[str, str]]) -> dict[str, str]:
    """code (or "as recorded" key) -> label in the session's language, from reason_labels().

    A label that two codes share (a reason renamed to a retired one's old name) gets its code appended, so the two
    stay apart on the charts; two keys of one code never share a label.
    """
    names = {key: pair[1] if lang() == "zh" else pair[0] for key, pair in labels.items()}
    codes: dict[str, set] = {}
    for key, name in names.items():
        codes.setdefault(name, set()).add(reason_code_of(key))
    return {key: f"{name} ({reason_code_of(key)})" if len(codes[name]) > 1 else name for key, name in names.items()}


def _table(df: pd.DataFrame, names: dict | None = None) -> pd.DataFrame:
    """The frame for download: dates as dates, a reason label next to its code, translated column names."""
    out = df.copy()
    if names is not None and "reason_code" in out:
        out.insert(out.columns.get_loc("reason_code") + 1, "reason", out["reason_code"].map(lambda c: names.get(c, c)))
        out["reason_code"] = out["reason_code"].map(reason_code_of)   # an "as recorded" key is no use in a file
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.date
    return out.rename(columns={c: tr(f"dash.col.{c}") for c in out.columns})


def trend(df: pd.DataFrame, f: AnalyticsFilters, grain: str, kind: str, count: str, names: dict,
          colours: dict) -> None:
    grain_control()
    title = tr(f"dash.trend_title_{kind}", grain=tr(f"dash.grain_{grain}").lower())
    if df.empty:
        return empty_chart(title)
    fig = charts.stacked_trend(df, count, names, colours, grain, lang(), title=title)
    show_chart(fig, f"{kind}_trend", table=_table(df, names), name=f"{kind}_trend_{grain}",
               drill=lambda d: f.search_params(kind, reason=d[1], period_start=d[0],
                                               period_end=period_end(pd.Timestamp(d[0]).date(), grain)))


def pareto(df: pd.DataFrame, f: AnalyticsFilters, names: dict, colours: dict) -> None:
    title = tr("dash.pareto_title")
    if df.empty:
        return empty_chart(title)
    fig = charts.pareto(df, "voids", names, colours, lang(), title=title)
    show_chart(fig, "void_pareto", table=_table(df, names), name="void_pareto",
               drill=lambda d: f.search_params("void", reason=d[0]))


def rates(frames: dict[str, pd.DataFrame], f: AnalyticsFilters, kind: str, base: str, count: str,
          method_key: str) -> None:
    """Tabs of rate per dimension; a bar opens the orders of that category / product / rep / … ."""
    st.subheader(tr(f"dash.rates_title_{kind}"))
    st.caption(tr("dash.ranking_note", method=tr(method_key)))
    dims = [d for d in DIMENSION_TABS if d in frames]
    for dim, tab in zip(dims, st.tabs([tr(f"dash.tab.{d}") for d in dims])):
        with tab:
            _rate_tab(frames[dim], f, kind, dim, base, count)


def _rate_tab(df: pd.DataFrame, f: AnalyticsFilters, kind: str, dim: str, base: str, count: str) -> None:
    title = tr(f"dash.rate_by_{kind}", dim=tr(f"dash.dim.{dim}"))
    if df.empty:
        return empty_chart(title)
    fig = charts.rate_bars(df, base, count, lang(), title=title, show_key=dim == "sku")
    show_chart(fig, f"{kind}_rate_{dim}", table=_table(df), name=f"{kind}_rate_by_{dim}",
               drill=lambda d: f.search_params(kind, **{dim: d[0]}))   # keys are codes, as Search takes them


def heatmap(df: pd.DataFrame, f: AnalyticsFilters) -> None:
    title = tr("dash.heatmap_title")
    if df.empty or not df["voids"].any():
        return empty_chart(title)
    fig = charts.rate_heatmap(df, lang(), title=title)
    show_chart(fig, "void_heatmap", table=_table(df), name="void_rate_category_month",
               drill=lambda d: f.search_params("void", category=d[1], period_start=d[0],
                                               period_end=period_end(pd.Timestamp(d[0]).date(), "month")),
               hint_key="dash.drill_hint_cell")
    st.caption(tr(f"dash.heatmap_note_{f.basis}"))


def time_to_void(df: pd.DataFrame, median_hours) -> None:
    title = tr("dash.time_to_void_title")
    if df.empty or not df["voids"].any():
        return empty_chart(title)
    labels = [tr(f"dash.bucket.{b}") for b in df["bucket"]]
    fig = charts.category_bars(labels, df["voids"], lang(), title=title, value_name=tr("dash.col.voids"), wrap_at=12)
    show_chart(fig, "void_time_to_void", table=_table(df.assign(bucket=labels)), name="time_to_void")
    if median_hours is not None:
        st.caption(tr("dash.median_time_to_void", n=f"{float(median_hours):,.1f}"))


def return_reasons(df: pd.DataFrame, f: AnalyticsFilters, names: dict, colours: dict) -> None:
    title = tr("dash.return_reasons_title")
    if df.empty:
        return empty_chart(title)
    fig = charts.category_bars([names.get(c, c) for c in df["reason_code"]], df["returns"], lang(), title=title,
                               value_name=tr("dash.col.returns"), keys=list(df["reason_code"]),
                               colours=[colours.get(c, "#888") for c in df["reason_code"]], shares=df["share"],
                               wrap_at=9)
    show_chart(fig, "return_reasons", table=_table(df, names), name="return_reasons",
               drill=lambda d: f.search_params("return", reason=d[0]))


def dispositions(df: pd.DataFrame) -> None:
    title = tr("dash.dispositions_title")
    if df.empty or not df["units"].any():
        return empty_chart(title)
    labels = [tr(f"dash.disposition.{d}") for d in df["disposition"]]
    colours = [charts.DISPOSITION_COLOURS.get(d, "#888") for d in df["disposition"]]
    fig = charts.category_bars(labels, df["units"], lang(), title=title, value_name=tr("dash.col.units"),
                               colours=colours, wrap_at=14)
    show_chart(fig, "return_dispositions", table=_table(df.assign(disposition=labels)), name="dispositions")
