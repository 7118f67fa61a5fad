"""Explain a change (issue #17): how much of the change in void / return rate (or count) between two periods each
value of one dimension carries — its contribution, split into mix and rate effect (see lib.analytics.shift_share).

The counts and bases are the dashboards': voids that count (applied) over orders created, dated by the filters'
basis; return notes over orders shipped. Orders fall into exactly one segment of a dimension: their rep, customer,
warehouse and source are single-valued; for product and category an order belongs to the SKU of its line of
largest value (quantity × unit price, the first such line on a tie) and to that SKU's category. Reasons split the
counted records only. The segments of largest |contribution| are listed, the rest folded into one row (key None),
so the rows always add up to the change; the rows are ranked by contribution, never by rate, and carry their base.
"""
from dataclasses import replace
from datetime import date
from fractions import Fraction

from lib import i18n
from lib.analytics import _explain_sql as q
from lib.analytics import shift_share as ss
from lib.analytics._base import language, prepare, reason_labels_in, snapshot
from lib.analytics._sql import span
from lib.analytics.filters import AnalyticsFilters
from lib.db import Database
from lib.domain import User
from lib.errors import InvalidInput

KINDS = ("voids", "returns")
DIMENSIONS = ("category", "sku", "rep", "customer", "warehouse", "reason", "source")
MEASURES = ss.MEASURES
TOP = 10                       # rows named; the rest are folded into one
_LINE_DIMENSIONS = ("category", "sku")
# A segment's orders in Search: for product and category those whose main line it is (lib.queries.main_line), as
# counted here, not every order with a line of it.
_DRILL_NARROW = {"category": "main_category", "sku": "main_sku"}


def explain(db: Database, user: User, kind: str = "voids", before=None, after=None, by: str = "category",
            measure: str = "rate", filters: AnalyticsFilters | None = None, lang: str | None = None,
            top: int = TOP) -> dict:
    """The change of `kind`'s rate (or count) from `before` to `after` ((first, last) days, inclusive), by one
    dimension: {kind, by, measure, basis, before, after, change, rows} (see the module docstring)."""
    return explain_all(db, user, kind, before, after, (by,), measure, filters, lang, top)[by]


def explain_all(db: Database, user: User, kind: str, before, after, dimensions=DIMENSIONS, measure: str = "rate",
                filters: AnalyticsFilters | None = None, lang: str | None = None, top: int = TOP) -> dict:
    """explain() for each of `dimensions` from one snapshot (the periods' records are selected once)."""
    kind, measure, dimensions = _check(kind, measure, dimensions)
    f0, f1 = (prepare(user, _period(filters, days)) for days in (before, after))
    lang = language(user, lang)
    with snapshot(db) as cur:
        spans = [span(cur, f, kind[:-1]) for f in (f0, f1)]
        periods = [(f0, spans[0]), (f1, spans[1])]
        by_range = q.load(cur, kind, periods)
        totals = q.totals(cur, by_range, periods)
        if measure == "rate" and not (totals[0] and totals[2]):
            raise InvalidInput(f"explain.no_base_{kind}")
        if set(dimensions) & set(_LINE_DIMENSIONS):
            q.load_products(cur, periods, by_range)
        reasons = reason_labels_in(cur, kind[:-1]) if "reason" in dimensions else {}
        return {d: _result(kind, d, measure, f0, f1, totals,
                           q.segments(cur, d, measure, totals, top, by_range, periods), lang, reasons)
                for d in dimensions}


def strongest(results: dict) -> dict | None:
    """Which dimension explains the change most: {dimension, row, excess, expected}, or None when nothing changed.

    A segment's excess is the share of the change it carries minus its share of the before-period count (what it
    would carry if every segment moved in proportion; the after count's share when there was none before, else its
    share of the base). The dimension whose named segment has the largest excess wins, with that segment: a lone
    segment holding everything explains nothing, a small one carrying most of the change explains a lot.
    """
    best = None
    for dimension, result in results.items():
        if not result["change"]:
            continue
        for row in result["rows"]:
            if row["key"] is None or row["key"] == "":
                continue
            expected = _expected_share(result, row)
            excess = row["contribution"] / result["change"] - expected
            if best is None or excess > best["excess"]:
                best = {"dimension": dimension, "row": row, "excess": excess, "expected": expected}
    return best


def drill_params(result: dict, filters: AnalyticsFilters, picked: list) -> dict:
    """URL params of the Search page listing the orders behind a bar of `result`'s waterfall (its customdata
    `picked`, lib.charts_explain): the period before or after with `filters`, and a step's segment in the later
    period."""
    what, key = picked[0], picked[1] if len(picked) > 1 else None
    side = result["before" if what == "before" else "after"]
    f = replace(filters, date_from=date.fromisoformat(side["from"]), date_to=date.fromisoformat(side["to"]))
    kind = result["kind"][:-1]
    if what == "row" and key:
        return f.search_params(kind, **{_DRILL_NARROW.get(result["by"], result["by"]): key})
    return f.search_params(kind)


def _expected_share(result: dict, row: dict) -> float:
    for side in ("before", "after"):
        if result[side]["count"]:
            return row[side]["count"] / result[side]["count"]
    return 0.0


def _check(kind: str, measure: str, dimensions) -> tuple[str, str, tuple]:
    kind = {"void": "voids", "return": "returns"}.get(kind, kind)
    if kind not in KINDS:
        raise InvalidInput("analytics.bad_kind", value=str(kind)[:40], allowed=", ".join(KINDS))
    if measure not in MEASURES:
        raise InvalidInput("explain.bad_measure", value=str(measure)[:40], allowed=", ".join(MEASURES))
    for d in dimensions:
        if d not in DIMENSIONS:
            raise InvalidInput("analytics.bad_dimension", value=str(d)[:40], allowed=", ".join(DIMENSIONS))
    return kind, measure, tuple(dimensions)


def _period(filters: AnalyticsFilters | None, days) -> AnalyticsFilters:
    """The filters over (first, last) day; reasons are grouped by code (labels as the catalogue has them now)."""
    if not days or len(days) != 2:
        raise InvalidInput("analytics.period_required")
    base = filters or AnalyticsFilters(days[0], days[1])
    return replace(base, date_from=days[0], date_to=days[1], labels="current")


def _result(kind, dimension, measure, f0, f1, totals, found: list[tuple], lang: str, reasons: dict) -> dict:
    base0, count0, base1, count1 = totals
    change = ss.total_change(measure, count0, base0, count1, base1)
    digits = ss.DIGITS[measure]
    rows = [_row(dimension, measure, totals, r, lang, reasons) for r in found]
    shown = ss.rounded([r.pop("_split").contribution for r in rows], change, digits)
    for row, value in zip(rows, shown):
        mix = ss.to_decimal(row["mix"], digits) if row["mix"] is not None else None
        row["contribution"] = _number(value, measure)
        row["mix"] = None if mix is None else float(mix)
        row["rate_effect"] = None if mix is None else float(value - mix)
    return {"kind": kind, "by": dimension, "measure": measure, "basis": f1.basis,
            "before": _side(f0.date_from, f0.date_to, count0, base0),
            "after": _side(f1.date_from, f1.date_to, count1, base1),
            "change": _number(ss.to_decimal(change, digits), measure), "rows": rows}


def _number(value, measure: str):
    """Counts as whole numbers, rates as floats (their rounded decimals print exactly)."""
    return int(value) if measure == "count" else float(value)


def _row(dimension, measure, totals, found: tuple, lang: str, reasons: dict) -> dict:
    named, g, key, en, zh, b0, b1, c0, c1, mix, members = found
    if dimension in q.COUNT_ONLY:
        b0, b1 = totals[0], totals[2]
    seg = ss.Segment(int(b0), int(b1), int(c0), int(c1))
    split = ss.split(measure, seg, max(totals[0], 1), max(totals[2], 1))
    if not named:   # the folded rest: its contribution is exact from the summed counts, its mix summed in SQL
        split = ss.Split(split.contribution, Fraction(mix or 0), split.contribution - Fraction(mix or 0))
    en, zh = _labels(dimension, named, g, key, en, zh, reasons)
    key = None if not named else "" if g is None else str(key if key is not None else g)
    return {"key": key, "label": zh if lang == "zh" else en, "label_en": en,
            "label_zh": zh, "members": int(members), "_split": split, "mix": split.mix,
            "before": _side(None, None, seg.c0, seg.b0), "after": _side(None, None, seg.c1, seg.b1)}


def _labels(dimension: str, named: bool, g, key, en, zh, reasons: dict) -> tuple[str, str]:
    if not named:
        return i18n.t("explain.other_row", "en"), i18n.t("explain.other_row", "zh")
    if g is None:
        return i18n.t("explore.none", "en"), i18n.t("explore.none", "zh")
    if dimension == "reason":
        return reasons.get(g, (g, g))
    if dimension == "source":
        return i18n.label("order_source", g, "en"), i18n.label("order_source", g, "zh")
    return en or str(key or g), zh or en or str(key or g)


def _side(first: date | None, last: date | None, count: int, base: int) -> dict:
    side = {"count": int(count), "base": int(base), "rate": float(count / base) if base else None}
    if first is not None:
        side = {"from": first.isoformat(), "to": last.isoformat(), **side}
    return side
