"""Spike alerts to people (issue #17): each new spike (kind, reason, week) notifies the ops leads and analysts once,
naming what explains it most, with one audit entry "spike.alert" per spike.

The audit entry is a contract (team chat delivery reads spikes from the audit log): entity_type "reason", entity_id
the reason code, after = {kind, week, count, threshold, top: {dimension, key, label_en, label_zh} or null}.
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
    """{dimension, key, label_en, label_zh} of the segment explaining the spike's week against its baseline weeks
    most (lib.analytics.explain.strongest), or None."""
    before, after = spikes.windows(s.week)
    f = replace(AnalyticsFilters(*after), basis="event", reasons=(s.reason_code,))
    dims = tuple(d for d in explain.DIMENSIONS if d != "reason")
    try:
        best = explain.strongest(explain.explain_all(db, user, kind, before, after, dims, "rate", f))
    except VoidDeskError:   # no orders in a window: nothing to explain it by
        return None
    if best is None:
        return None
    row = best["row"]
    return {"dimension": best["dimension"], "key": row["key"], "label_en": row["label_en"],
            "label_zh": row["label_zh"]}


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
        params[f"top_{lang}"] = (i18n.t("explain.mostly", lang, label=top[f"label_{lang}"],
                                        dimension=i18n.t(f"explain.dim.{top['dimension']}", lang))
                                 if top else i18n.t("explain.no_top", lang))
    return params
