"""Spike alerts to people (issue #17): each new spike (kind, reason, week) notifies the ops leads and analysts once,
naming what explains it most, with one audit entry "spike.alert" per spike.

The audit entry is a contract (team chat delivery reads spikes from the audit log): entity_type "reason", entity_id
the reason code, after = {kind, week, count, threshold, top: {dimension, key, label_en, label_zh, in} or null}, where
`in` is {dimension, key, label_en, label_zh, share} when one warehouse or rep carries most of the top segment's
contribution ("mostly phones in warehouse SH"), else null.
"""
from dataclasses import replace

from lib import clock, i18n
from lib.analytics import explain, spikes
from lib.analytics.filters import AnalyticsFilters
from lib.db import CONSTRAINT_ERRORS, Database
from lib.domain import User, require
from lib.errors import VoidDeskError
from lib.services import audit
from lib.services.notify import notify, recipients_by_role

KINDS = ("void", "return")
RECIPIENTS = ("ops_lead", "analyst")
# A second segment is named beside the top one only when it carries at least this share of the top segment's
# contribution (issue #17). Not one half: with two warehouses or two reps one of them always carries half of any
# split, so "mostly X in Y" would name a side of a spike spread evenly; three in four is a concentration.
CONCENTRATED = 0.75
# Where the second segment may come from: the filters select exactly these (one warehouse, one rep per order). A
# category filter takes every order with a line in the category, wider than explain's category segment.
_SECOND = {"warehouse": "warehouses", "rep": "reps"}
_WHAT = {"void": "explain.spike_voids", "return": "explain.spike_returns"}


def alert_new_spikes(db: Database, user: User, f: AnalyticsFilters, kinds=KINDS) -> list[dict]:
    """The spikes in the weeks of `f`, each {kind, reason_code, week, count, threshold, top, new}; those never
    alerted before are alerted now (new True)."""
    require(user, "analytics.view")
    found = []
    for kind in kinds:
        for s in spikes.spikes(db, user, f, kind):
            item = {"kind": kind, "reason_code": s.reason_code, "week": s.week.isoformat(), "count": s.count,
                    "threshold": s.threshold, "top": None, "new": False}
            if not _alerted(db, kind, s):
                item["top"] = top_contributor(db, user, kind, s)
                item["new"] = _alert(db, user, item)
            found.append(item)
    return found


def top_contributor(db: Database, user: User, kind: str, s: spikes.Spike) -> dict | None:
    """{dimension, key, label_en, label_zh, in} of the segment explaining the spike's week against its baseline
    weeks most (lib.analytics.explain.strongest), with the second segment concentrating it (`in`), or None."""
    periods = spikes.windows(s.week)
    f = replace(AnalyticsFilters(*periods[1]), basis="event", reasons=(s.reason_code,))
    dims = tuple(d for d in explain.DIMENSIONS if d != "reason")
    try:
        results = explain.explain_all(db, user, kind, *periods, dims, "rate", f)
    except VoidDeskError:   # no orders in a window: nothing to explain it by
        return None
    best = explain.strongest(results)
    if best is None:
        return None
    return {**_named(best["dimension"], best["row"]), "in": _concentrated(db, user, kind, periods, f, results, best)}


def _named(dimension: str, row: dict) -> dict:
    return {"dimension": dimension, "key": row["key"], "label_en": row["label_en"], "label_zh": row["label_zh"]}


def _concentrated(db: Database, user: User, kind: str, periods, f: AnalyticsFilters, results: dict,
                  best: dict) -> dict | None:
    """The warehouse or rep carrying at least CONCENTRATED of the top segment's contribution, or None.

    A segment's contribution to the change of the rate is c_after / B_after - c_before / B_before (B: all orders of
    each period), so the part of segment S inside segment T is the same expression over S's counts among T's orders:
    one explain narrowed to T by the filters. The candidate T of each dimension is its segment of largest
    contribution, and a dimension with a single segment says nothing (every order is in it)."""
    bases = (results[best["dimension"]]["before"]["base"], results[best["dimension"]]["after"]["base"])
    whole = _contribution(best["row"], bases)
    if whole <= 0:
        return None
    found = None
    for dimension, field in _SECOND.items():
        candidate = _largest(results[dimension]) if dimension != best["dimension"] else None
        if candidate is None:
            continue
        narrowed = replace(f, **{field: (candidate["key"],)})
        try:
            inside = explain.explain(db, user, kind, *periods, best["dimension"], "rate", narrowed)
        except VoidDeskError:
            continue
        row = next((r for r in inside["rows"] if r["key"] == best["row"]["key"]), None)
        share = _contribution(row, bases) / whole if row else 0.0
        if share >= CONCENTRATED and (found is None or share > found["share"]):
            found = {**_named(dimension, candidate), "share": round(share, 3)}
    return found


def _contribution(row: dict, bases: tuple[int, int]) -> float:
    return row["after"]["count"] / max(bases[1], 1) - row["before"]["count"] / max(bases[0], 1)


def _largest(result: dict) -> dict | None:
    named = [r for r in result["rows"] if r["key"]]
    return max(named, key=lambda r: r["contribution"]) if len(named) > 1 else None


def _alerted(db: Database, kind: str, s: spikes.Spike) -> bool:
    with db.read() as cur:
        return bool(cur.execute("SELECT count(*) FROM spike_alerts WHERE kind = ? AND reason_code = ? AND week = ?",
                                [kind, s.reason_code, s.week]).fetchall()[0][0])


def _alert(db: Database, user: User, item: dict) -> bool:
    """Record, audit and notify one spike in one transaction; False when another run got there first."""
    try:
        with db.transaction() as cur:
            cur.execute("INSERT INTO spike_alerts VALUES (?, ?, ?, ?, ?, ?)",
                        [item["kind"], item["reason_code"], item["week"], item["count"], clock.now(), user.id])
            after = {k: item[k] for k in ("kind", "week", "count", "threshold", "top")}
            audit.record(cur, user, "spike.alert", "reason", item["reason_code"], after=after)
            notify(cur, recipients_by_role(cur, RECIPIENTS), "spike.detected", _params(cur, item))
        return True
    except CONSTRAINT_ERRORS:
        return False


def _params(cur, item: dict) -> dict:
    """The notification's words in both languages (the inbox and the mail show the reader's)."""
    labels = dict(((c, (en, zh)) for c, en, zh in cur.execute(
        "SELECT code, label_en, label_zh FROM reasons WHERE kind = ? AND code = ?",
        [item["kind"], item["reason_code"]]).fetchall()))
    en, zh = labels.get(item["reason_code"], (item["reason_code"], item["reason_code"]))
    top = item["top"]
    params = {"week": item["week"], "count": item["count"], "threshold": item["threshold"],
              "reason_en": en, "reason_zh": zh}
    for lang in ("en", "zh"):
        params[f"what_{lang}"] = i18n.t(_WHAT[item["kind"]], lang)
        params[f"top_{lang}"] = _mostly(top, lang) if top else i18n.t("explain.no_top", lang)
    return params


def _mostly(top: dict, lang: str) -> str:
    """"mostly Phone Two (product)", or with its second segment "… in warehouse GZ"."""
    words = {"label": top[f"label_{lang}"], "dimension": i18n.t(f"explain.dim.{top['dimension']}", lang)}
    second = top.get("in")
    if not second:
        return i18n.t("explain.mostly", lang, **words)
    return i18n.t("explain.mostly_in", lang, **words, label_in=second[f"label_{lang}"],
                  dimension_in=i18n.t(f"explain.dim.{second['dimension']}", lang))
