"""Dashboard pieces that are not charts: KPI rows with deltas, spike alerts, approval turnaround."""
from dataclasses import dataclass, replace
from datetime import timedelta

import pandas as pd
import streamlit as st

from lib import i18n
from lib.analytics import spikes
from lib.analytics.filters import AnalyticsFilters
from lib.charts import reason_colours
from lib.errors import VoidDeskError
from lib.ui import explain_view
from lib.ui.analytics_drill import SEARCH_PAGE
from lib.ui.analytics_filters import filter_bar
from lib.ui.analytics_views import reason_names
from lib.ui.context import lang, md_escape, show_error, tr


@dataclass(frozen=True)
class Kpi:
    field: str
    label_key: str
    kind: str = "int"             # int | money | pct | hours
    delta_color: str = "normal"   # "inverse" where up is bad
    help_key: str | None = None


def fmt(value, kind: str, compact: bool = False) -> str:
    language = lang()
    if kind == "money":
        return compact_money(value, language) if compact else i18n.fmt_money(value, language)
    if kind == "pct":
        return i18n.fmt_pct(value, language, 2)
    if kind == "hours":
        return "–" if value is None else tr("dash.hours", n=f"{float(value):,.1f}")
    return i18n.fmt_int(value, language)


def compact_money(value, language: str) -> str:
    """¥9.40M / ¥781.2K in English, ¥939.55万 / ¥1.20亿 in Chinese; small amounts in full."""
    if value is None:
        return "–"
    amount, sign = abs(float(value)), "-" if float(value) < 0 else ""
    steps = ((1e8, 1e8, "亿"), (1e4, 1e4, "万")) if language == "zh" else (
        (1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "K"))
    for smallest, size, unit in steps:
        if amount >= smallest:
            return f"{sign}¥{amount / size:,.2f}{unit}"
    return sign + i18n.fmt_money(amount, language)


def _delta(current, previous, kind: str) -> str | None:
    """The change as text with its sign (rates in percentage points); None when there is nothing to compare."""
    if current is None or previous is None:
        return None
    diff = float(current) - float(previous)
    if kind == "pct":
        return tr("dash.pp", n=f"{diff * 100:+.2f}")
    if kind == "money":
        return ("+" if diff >= 0 else "-") + compact_money(abs(diff), lang())
    return f"{diff:+,.0f}"


def kpi_row(kpis: dict, specs: tuple[Kpi, ...], per_row: int = 3) -> None:
    """Bordered st.metric per KPI: the current period, the change against the previous one, and the exact
    figures in the help tooltip."""
    current, previous = kpis["current"], kpis["previous"]
    for start in range(0, len(specs), per_row):
        for col, spec in zip(st.columns(per_row), specs[start:start + per_row]):
            now, before = current.get(spec.field), previous.get(spec.field)
            exact = tr("dash.kpi_exact", now=fmt(now, spec.kind), before=fmt(before, spec.kind))
            col.metric(tr(spec.label_key), fmt(now, spec.kind, compact=True),
                       delta=_delta(now, before, spec.kind), delta_color=spec.delta_color, border=True,
                       delta_description=tr("dash.vs_previous", value=fmt(before, spec.kind, compact=True)),
                       help=(tr(spec.help_key) + "\n\n" if spec.help_key else "") + exact)


def spike_alerts(spikes: list, f: AnalyticsFilters, kind: str, names: dict, method_key: str) -> None:
    """One warning per flagged (reason, week) with the numbers behind the flag and a link to its orders."""
    if not spikes:
        return
    with st.container(border=True):
        st.markdown(f"#### :material/warning: {tr('dash.spikes_title', n=len(spikes))}")
        for s in spikes:
            week = pd.Timestamp(s.week).date()
            # Spikes are counted by event week; the link shows that whole week even where it straddles the period.
            weekly = replace(f, basis="event", date_from=min(f.date_from, week),
                             date_to=max(f.date_to, week + timedelta(days=6)))
            text = tr(f"dash.spike_line_{kind}", reason=md_escape(names.get(s.reason_code, s.reason_code)),
                      week=week.isoformat(), count=i18n.fmt_int(s.count, lang()),
                      mean=f"{float(s.baseline_mean):,.1f}", sd=f"{float(s.baseline_sd):,.1f}",
                      threshold=i18n.fmt_int(s.threshold, lang()))
            left, middle, right = st.columns([4.6, 1, 1], vertical_alignment="center")
            left.warning(text, icon=":material/trending_up:")
            middle.button(tr("explain.action"), key=f"{kind}_explain_{s.reason_code}_{week}", icon=":material/troubleshoot:",
                          on_click=explain_view.open_spike, args=(kind, s.reason_code, week),
                          help=tr("explain.action_help"))
            right.page_link(SEARCH_PAGE, label=tr("dash.see_orders"), icon=":material/arrow_forward:",
                            query_params=weekly.search_params(kind, reason=s.reason_code, period_start=week,
                                                              period_end=week + timedelta(days=6)))
        st.caption(tr("dash.spike_method_note", method=tr(method_key)))


def turnaround(stats: dict) -> None:
    """Approval turnaround of void requests decided in the period, and the requests waiting now."""
    specs = (("decided", "dash.decided", "int"), ("pending_now", "dash.pending_now", "int"),
             ("approved", "dash.approved", "int"), ("rejected", "dash.rejected", "int"),
             ("median_hours", "dash.median_turnaround", "hours"), ("p90_hours", "dash.p90_turnaround", "hours"))
    for start in range(0, len(specs), 2):  # two a row: it sits in half the page width
        for col, (field, key, kind) in zip(st.columns(2), specs[start:start + 2]):
            col.metric(tr(key), fmt(stats.get(field), kind), border=True)


def dashboard_top(db, kind: str, load, kpis: tuple, base: str, count: str):
    """What both dashboards open with: the filter bar, the dashboard `load(f, grain)` (a refusal is shown and
    stops the page), the KPI row, the empty-period note (stops the page) and the spike alerts.

    Returns (filters, grain, dashboard, reason names, reason colours)."""
    f, grain = filter_bar(db, kind)
    try:
        dash = load(f, grain)
    except VoidDeskError as exc:
        show_error(exc)
        st.stop()
    names, colours = reason_names(dash.reason_labels), reason_colours(dash.reason_labels)
    kpi_row(dash.kpis, kpis)
    if not dash.kpis["current"][base] and not dash.kpis["current"][count]:
        st.info(tr("dash.empty_period"), icon=":material/event_busy:")
        st.stop()
    spike_alerts(dash.spikes, f, kind, names, spikes.METHOD_KEY)
    return f, grain, dash, names, colours
