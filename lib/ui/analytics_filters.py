"""The analytics filter bar (SPEC §8): period, basis, grain, reasons, categories, warehouses, reps, reason names.

The URL carries AnalyticsFilters.to_params() plus `grain`, so a view can be bookmarked and shared; codes, not
labels, so a link means the same in both languages. A URL the page did not write (a bookmark, a shared link)
seeds the widgets; a bad value in it is reported and the defaults are used instead.
"""
from datetime import date, timedelta

import streamlit as st

from lib import clock
from lib.analytics.filters import GRAINS, LABELS, AnalyticsFilters
from lib.analytics.voids import reason_labels
from lib.errors import InvalidInput, VoidDeskError
from lib.queries import catalog
from lib.ui.context import lang, message_md, show_error, tr

DEFAULT_GRAIN = "week"
QUICK_DAYS = (30, 90, 365)
KEYS = {"date_from": "af_from", "date_to": "af_to", "basis": "af_basis", "reasons": "af_reasons",
        "categories": "af_categories", "warehouses": "af_warehouses", "reps": "af_reps", "labels": "af_labels"}
GRAIN_KEY = "af_grain"
QUICK_KEY = "af_quick"
_WRITTEN = "af_url_written"   # the URL as this page last wrote it
_LAST = "af_last_params"      # the last filters shown, carried from one dashboard to the other


def today() -> date:
    return clock.today()


def filter_bar(db, kind: str) -> tuple[AnalyticsFilters, str]:
    """Filter widgets in a bordered box; returns the cleaned filters and the time grain (URL kept in step)."""
    _seed_from_url()
    with st.container(border=True):
        _period_row(kind)
        _narrow_row(db, kind)
        _labels_row()
    try:
        f = AnalyticsFilters(**{name: _widget_value(name) for name in KEYS}).cleaned()
    except VoidDeskError as exc:  # e.g. "from" after "to" picked in the widgets
        show_error(exc)
        st.stop()
    grain = st.session_state.get(GRAIN_KEY) or DEFAULT_GRAIN
    _write_url(f, grain)
    return f, grain


def _url() -> dict[str, list[str]]:
    return {name: st.query_params.get_all(name) for name in st.query_params}


def _seed_from_url() -> None:
    current = _url()
    if current and current == st.session_state.get(_WRITTEN):
        return
    params = st.query_params if current else st.session_state.get(_LAST, {})
    try:
        f = AnalyticsFilters.from_params(params, today())
        grain = _grain_param(params)
    except VoidDeskError as exc:
        st.warning(f"{message_md(exc)} {tr('dash.url_fallback')}", icon=":material/link_off:")
        f, grain = AnalyticsFilters.default(today()), DEFAULT_GRAIN
    _set_widgets(f, grain)
    st.session_state[_WRITTEN] = current


def _grain_param(params) -> str:
    grain = params.get("grain") if hasattr(params, "get") else None
    grain = grain[-1] if isinstance(grain, list) and grain else grain
    if grain in (None, ""):
        return DEFAULT_GRAIN
    if grain not in GRAINS:
        raise InvalidInput("analytics.bad_grain", value=str(grain)[:40], allowed=", ".join(GRAINS))
    return grain


def _set_widgets(f: AnalyticsFilters, grain: str) -> None:
    for name, key in KEYS.items():
        value = getattr(f, name)
        st.session_state[key] = list(value) if isinstance(value, tuple) else value
    st.session_state[GRAIN_KEY] = grain


def _widget_value(name: str):
    value = st.session_state.get(KEYS[name])
    return tuple(value or ()) if name in ("reasons", "categories", "warehouses", "reps") else value


def _write_url(f: AnalyticsFilters, grain: str) -> None:
    params = {**f.to_params(), "grain": grain}
    # Reason codes belong to one dashboard (void or return); the rest follows the user to the other one.
    st.session_state[_LAST] = {k: v for k, v in params.items() if k != "reason"}
    st.query_params.from_dict(params)
    st.session_state[_WRITTEN] = _url()


def _quick_pick() -> None:
    """A quick period sets the dates and lets go of the pill (it is a shortcut, not a state)."""
    days = st.session_state.get(QUICK_KEY)
    if days:
        end = today()
        st.session_state[KEYS["date_from"]] = end - timedelta(days=days - 1)
        st.session_state[KEYS["date_to"]] = end
    st.session_state[QUICK_KEY] = None


def _period_row(kind: str) -> None:
    cols = st.columns([1, 1, 1.9, 1.7], vertical_alignment="bottom")
    cols[0].date_input(tr("dash.from"), key=KEYS["date_from"], format="YYYY-MM-DD")
    cols[1].date_input(tr("dash.to"), key=KEYS["date_to"], format="YYYY-MM-DD")
    cols[2].pills(tr("dash.quick_period"), QUICK_DAYS, key=QUICK_KEY, on_change=_quick_pick,
                  format_func=lambda n: tr("dash.last_days", n=n))
    cols[3].segmented_control(tr("dash.basis"), ("order", "event"), key=KEYS["basis"], required=True,
                              format_func=lambda b: tr(f"dash.basis_event_{kind}" if b == "event"
                                                       else "dash.basis_order"))


def grain_control() -> str:
    """Day / week / month for the trend chart (kept in the URL with the filters)."""
    return st.segmented_control(tr("dash.grain"), GRAINS, key=GRAIN_KEY, required=True,
                                format_func=lambda g: tr(f"dash.grain_{g}"))


def _narrow_row(db, kind: str) -> None:
    language = lang()
    reasons = {code: pair[1 if language == "zh" else 0] for code, pair in reason_labels(db, kind).items()}
    cats = catalog.categories(db, language)
    houses = catalog.warehouses(db, language)
    reps = {u["username"]: u["display_name"] for u in catalog.users_by_role(db, ("sales",))}
    cols = st.columns(4)
    for col, name, label_key, options in ((cols[0], "reasons", f"dash.{kind}_reasons", reasons),
                                          (cols[1], "categories", "filter.category", cats),
                                          (cols[2], "warehouses", "filter.warehouse", houses),
                                          (cols[3], "reps", "filter.rep", reps)):
        key = KEYS[name]
        # A code from a link that is not in the catalogue (retired, or a typo) still shows, as its code.
        codes = list(options) + [c for c in st.session_state.get(key) or [] if c not in options]
        col.multiselect(tr(label_key), codes, key=key, format_func=lambda c, o=options: o.get(c, c),
                        placeholder=tr("dash.all"))


def _labels_row() -> None:
    """Reason names as the catalogue has them now, or as each record carried them (issue #7)."""
    cols = st.columns([1.7, 4.3], vertical_alignment="center")
    cols[0].segmented_control(tr("dash.labels"), LABELS, key=KEYS["labels"], required=True,
                              format_func=lambda v: tr(f"dash.labels_{v}"))
    cols[1].caption(tr("dash.labels_note"))
