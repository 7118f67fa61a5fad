"""The "Explain the change" view of both dashboards (issue #17): this period against the one before or the same
period last year — or a spike's week against its baseline weeks — by one dimension at a time, as a waterfall
whose bars open their orders in Search, a table, and a sentence naming the dimension that explains most."""
from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st

from lib import charts_explain, i18n
from lib.analytics import explain, spikes
from lib.analytics.filters import AnalyticsFilters
from lib.errors import VoidDeskError
from lib.ui.analytics_drill import show_chart
from lib.ui.cached import explain_all
from lib.ui.context import lang, md_escape, show_error, tr
from lib.ui.tables import show_table

COMPARISONS = ("previous", "last_year")
COLUMNS = ("key", "label", "contribution", "mix", "rate_effect", "before_base", "before_count", "before_rate",
           "after_base", "after_count", "after_rate")
KEYED = ("sku", "customer")   # dimensions whose code says more than the name (product and customer codes)


def spike_key(kind: str) -> str:
    """Session key of the spike being explained ({reason, week}), set by a spike alert's Explain button."""
    return f"{kind}_explain_spike"


def open_spike(kind: str, reason: str, week: date) -> None:
    """The Explain action of a spike alert: open this view on that spike."""
    st.session_state[spike_key(kind)] = {"reason": reason, "week": week.isoformat()}
    st.session_state[f"{kind}_explain_on"] = True


def section(db, user, kind: str, f: AnalyticsFilters, names: dict) -> None:
    """The view: its switch, its controls, then the explanation (computed only while it is switched on)."""
    st.subheader(tr("explain.title"))
    if not st.toggle(tr("explain.show"), key=f"{kind}_explain_on", help=tr("explain.show_help")):
        return
    spike = st.session_state.get(spike_key(kind))
    before, after, scoped, measure, dim = _controls(kind, f, spike, names)
    dims = tuple(d for d in explain.DIMENSIONS if not (spike and d == "reason"))   # a spike is one reason
    try:
        results = explain_all(db, user, kind, before, after, dims, measure, scoped, lang())
    except VoidDeskError as exc:
        show_error(exc)
        return
    _sentence(results, measure, dim, _picker_key(kind, "reason" if spike else None))
    _chart(results[dim], kind, dim, scoped, after)
    _notes(dim, kind)


def _controls(kind: str, f: AnalyticsFilters, spike: dict | None, names: dict):
    """(before, after, filters, measure, dimension) from the widgets, or from the spike being explained."""
    if spike:
        before, after = spikes.windows(date.fromisoformat(spike["week"]))
        with st.container(horizontal=True, vertical_alignment="center"):
            st.info(tr("explain.spike_banner", reason=md_escape(names.get(spike["reason"], spike["reason"])),
                       week=spike["week"], n=spikes.BASELINE_WEEKS), icon=":material/troubleshoot:")
            st.button(tr("explain.back"), key=f"{kind}_explain_back", on_click=st.session_state.pop,
                      args=(spike_key(kind), None))
        scoped = replace(f, basis="event", reasons=(spike["reason"],))
        dim = _dimension_picker(kind, exclude="reason")
        return before, after, scoped, "rate", dim
    left, middle, right = st.columns([3.2, 2, 1.4])
    with left:
        compare = st.segmented_control(tr("explain.compare"), COMPARISONS, default="previous",
                                       format_func=_words("explain.compare_"), key=f"{kind}_explain_vs")
    with middle:
        dim = _dimension_picker(kind)
    with right:
        measure = st.segmented_control(tr("explain.measure"), explain.MEASURES, default="rate",
                                       format_func=_words("explain.measure_"), key=f"{kind}_explain_measure")
    before = f.previous() if compare != "last_year" else _year_before(f)
    return (before.date_from, before.date_to), (f.date_from, f.date_to), f, measure or "rate", dim


def _picker_key(kind: str, exclude: str | None) -> str:
    return f"{kind}_explain_by_{exclude or 'all'}"


def _dimension_picker(kind: str, exclude: str | None = None) -> str:
    dims = [d for d in explain.DIMENSIONS if d != exclude]
    return st.selectbox(tr("explain.by"), dims, format_func=_words("explain.by_"), key=_picker_key(kind, exclude))


def _words(prefix: str):
    """Option words in the session's language, bound now (the function is also called outside this script run)."""
    language = lang()
    return lambda option: i18n.t(f"{prefix}{option}", language)


def _year_before(f: AnalyticsFilters) -> AnalyticsFilters:
    def back(d: date) -> date:
        return d.replace(year=d.year - 1) if not (d.month == 2 and d.day == 29) else d.replace(year=d.year - 1, day=28)
    return replace(f, date_from=back(f.date_from), date_to=back(f.date_to))


def _sentence(results: dict, measure: str, shown: str, picker: str) -> None:
    """Which dimension explains the change most (lib.analytics.explain.strongest), in one sentence, and a button
    that splits the chart by it."""
    best = explain.strongest(results)
    if best is None:
        st.caption(tr("explain.no_change"))
        return
    row, change = best["row"], results[best["dimension"]]["change"]
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(tr("explain.strongest", dimension=tr(f"explain.dim.{best['dimension']}"),
                       label=md_escape(row["label"]),
                       part=charts_explain.fmt_value(row["contribution"], measure, lang(), signed=True),
                       change=charts_explain.fmt_value(change, measure, lang(), signed=True),
                       share=f"{row['contribution'] / change:.0%}", before=f"{best['expected']:.0%}"))
        if best["dimension"] != shown:
            st.button(tr("explain.split_by_best", dimension=tr(f"explain.dim.{best['dimension']}")),
                      key=f"{picker}_best", on_click=st.session_state.__setitem__, args=(picker, best["dimension"]))


def _chart(result: dict, kind: str, dim: str, f: AnalyticsFilters, after: tuple) -> None:
    title = tr(f"explain.chart_title_{result['measure']}_{kind}", dim=tr(f"explain.dim.{dim}"),
               before=f"{result['before']['from']} – {result['before']['to']}",
               after=f"{result['after']['from']} – {result['after']['to']}")
    fig = charts_explain.waterfall(result, lang(), title=title)
    table = _table(result)
    show_chart(fig, f"{kind}_explain_{dim}", table=table, name=f"{kind}_explain_by_{dim}",
               drill=lambda picked: explain.drill_params(result, f, picked), hint_key="explain.drill_hint")
    show_table(table, hide_index=True, width="stretch", height=38 + 35 * len(table), column_config=_formats(result))
    st.caption(tr(f"explain.table_unit_{result['measure']}"))


def _table(result: dict) -> pd.DataFrame:
    """The rows with translated headers, contribution first; rates and their changes in percent / percentage
    points. Codes only where they tell apart what names may not (products, customers)."""
    scale = 100 if result["measure"] == "rate" else 1
    rows = [{"key": r["key"] if r["key"] is not None else "", "label": r["label"],
             "contribution": r["contribution"] * scale,
             "mix": None if r["mix"] is None else r["mix"] * scale,
             "rate_effect": None if r["rate_effect"] is None else r["rate_effect"] * scale,
             "before_base": r["before"]["base"], "before_count": r["before"]["count"],
             "before_rate": _pct(r["before"]["rate"]), "after_base": r["after"]["base"],
             "after_count": r["after"]["count"], "after_rate": _pct(r["after"]["rate"])}
            for r in result["rows"]]
    columns = [c for c in COLUMNS if c != "key" or result["by"] in KEYED]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.rename(columns={c: tr(f"explain.col.{c}") for c in columns})


def _formats(result: dict) -> dict:
    """Counts as whole numbers, rates in %, contributions signed (pp for rates)."""
    signed = "%+.3f" if result["measure"] == "rate" else "%+.2f"
    formats = {"before_base": "%d", "before_count": "%d", "after_base": "%d", "after_count": "%d",
               "before_rate": "%.2f%%", "after_rate": "%.2f%%", "contribution": signed, "mix": signed,
               "rate_effect": signed}
    # narrow columns but the contribution, so all of them fit the page at 1280 pixels
    return {tr(f"explain.col.{c}"): st.column_config.NumberColumn(format=f, width=None if c == "contribution"
                                                                  else "small") for c, f in formats.items()}


def _pct(rate) -> float | None:
    return None if rate is None else round(rate * 100, 3)


def _notes(dim: str, kind: str) -> None:
    notes = [tr(f"explain.note_method_{kind}")]
    if dim in ("category", "sku"):
        notes.append(tr("explain.note_main_line"))
    st.caption(" ".join(notes))
