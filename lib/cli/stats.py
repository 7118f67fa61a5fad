"""`python -m lib.cli stats voids|returns` (SPEC §11): the numbers behind the dashboards, from the same functions.

Rows are {period, key, count, value, rate}. By reason: one row per period (day / week / month) and reason, with
the voided value (returns: the refund value) and the rate against the orders created (returns: shipped) in that
period. By a dimension: one row per value over the whole period (`period` is "FROM/TO"), ranked like the
dashboard, with `value` empty and the extra keys label, base (orders, or units shipped) and score. By reason with
`--labels recorded`, a renamed reason has a row per name its records were made with: `key` stays the code and the
extra keys label_en, label_zh give the name as recorded.

`stats explain voids|returns` and `stats spikes [--notify]` are in stats_explain.py.
"""
from datetime import date

from lib import clock
from lib.analytics import returns, voids
from lib.analytics.filters import GRAINS, LABELS, AnalyticsFilters, reason_code_of
from lib.cli import stats_explain
from lib.cli.common import acting_user, emit, open_db
from lib.errors import InvalidInput

BY = ("reason", "category", "sku", "rep", "customer", "warehouse")
RETURN_BY = ("reason", "category", "sku")
ROW_KEYS = ("period", "key", "count", "value", "rate")


def register(sub, common, acting) -> None:
    """Register `stats`."""
    p = sub.add_parser("stats", parents=[common, acting], help="the numbers behind the dashboards (SPEC §8)",
                       description="stats voids|returns: the numbers behind the dashboards. stats explain voids|returns"
                                   " --by DIM: what each category, product, rep, customer, warehouse, reason or order"
                                   " source contributed to the change of the rate (or count) from --vs-from..--vs-to"
                                   " (default: the period just before) to --from..--to. stats spikes [voids|returns]"
                                   " [--notify]: the spike alerts of this week and the last (or --from..--to); with"
                                   " --notify, a scheduled job: each spike not alerted before notifies the operations"
                                   " leads and analysts once and gets an audit entry.")
    p.add_argument("kind", choices=("voids", "returns", "explain", "spikes"))
    p.add_argument("what", nargs="?", metavar="voids|returns", help="after explain (required) or spikes (default both)")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first day (default: 89 days before --to)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last day, inclusive (default: today)")
    p.add_argument("--grain", default="week", help="day, week or month (with --by reason; default week)")
    p.add_argument("--by", default="reason", help=f"{', '.join(BY)} (returns: {', '.join(RETURN_BY)})")
    p.add_argument("--basis", default="event", help="event (void / return date, default) or order (order date)")
    p.add_argument("--labels", default="current",
                   help=f"{' or '.join(LABELS)}: reason names now, or as each record had them (with --by reason)")
    p.add_argument("--reason", metavar="CODE", action="append", help="only this reason (repeatable)")
    p.add_argument("--category", metavar="C", action="append", help="only orders with a line in C (repeatable)")
    p.add_argument("--warehouse", metavar="W", action="append", help="only this warehouse (repeatable)")
    p.add_argument("--rep", metavar="NAME", action="append", help="only this sales rep (repeatable)")
    p.add_argument("--limit", type=int, default=15, help="rows per dimension with --by other than reason")
    p.add_argument("--vs-from", metavar="DATE", help="explain: first day of the period to compare with")
    p.add_argument("--vs-to", metavar="DATE", help="explain: its last day")
    p.add_argument("--measure", default="rate", help="explain: rate (default) or count")
    p.add_argument("--notify", action="store_true", help="spikes: alert people of the spikes not alerted before")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args) -> int:
    if args.kind == "explain":
        return stats_explain.cmd_explain(args, filters_from_args)
    if args.kind == "spikes":
        return stats_explain.cmd_spikes(args, filters_from_args)
    if args.what:
        raise InvalidInput("cli.unexpected_argument", value=str(args.what)[:40])
    db = open_db(args)
    user = acting_user(db, args.user)
    f = filters_from_args(args)
    if args.grain not in GRAINS:
        raise InvalidInput("analytics.bad_grain", value=str(args.grain)[:40], allowed=", ".join(GRAINS))
    allowed = BY if args.kind == "voids" else RETURN_BY
    if args.by not in allowed:
        raise InvalidInput("analytics.bad_dimension", value=str(args.by)[:40], allowed=", ".join(allowed))
    rows = stats_rows(db, user, f, args.kind, args.by, args.grain, args.limit)
    emit(args, rows, format_rows(rows))
    return 0


def filters_from_args(args, today: date | None = None) -> AnalyticsFilters:
    params = {"from": args.date_from or "", "to": args.date_to or "", "basis": args.basis, "labels": args.labels,
              "reason": args.reason or [], "category": args.category or [], "warehouse": args.warehouse or [],
              "rep": args.rep or []}
    return AnalyticsFilters.from_params(params, today or clock.today())


def stats_rows(db, user, f: AnalyticsFilters, kind: str, by: str, grain: str, limit: int = 15) -> list[dict]:
    """The rows `stats` prints, from the dashboard query functions."""
    if by == "reason":
        return _trend_rows(db, user, f, kind, grain)
    if kind == "voids":
        frame, base = voids.rates_by(db, user, f, by, limit=limit), "orders"
        count = "voids"
    else:
        frame, base = returns.rates_by(db, user, f, by, limit=limit), "units_sold"
        count = "units_returned"
    period = f"{f.date_from.isoformat()}/{f.date_to.isoformat()}"
    return [{"period": period, "key": r["key"], "count": int(r[count]), "value": None, "rate": _num(r["rate"]),
             "label": r["label"], "base": int(r[base]), "score": _num(r["score"])}
            for r in frame.to_dict("records")]


def _trend_rows(db, user, f: AnalyticsFilters, kind: str, grain: str) -> list[dict]:
    if kind == "voids":
        trend, count = voids.trend(db, user, f, grain), "voids"
        bases = voids.orders_by_period(db, user, f, grain).set_index("period")["orders"]
    else:
        trend, count = returns.trend(db, user, f, grain), "returns"
        bases = returns.shipped_by_period(db, user, f, grain).set_index("period")["shipped_orders"]
    base = {_day(p): int(n) for p, n in bases.items()}
    labels = voids.reason_labels(db, kind[:-1], "recorded") if f.labels == "recorded" else None
    rows = []
    for r in trend.to_dict("records"):
        period, n = _day(r["period"]), int(r[count])
        rows.append({"period": period.isoformat(), "key": reason_code_of(r["reason_code"]), "count": n,
                     "value": _num(r["value"]), "rate": n / base[period] if base.get(period) else None})
        if labels is not None:
            rows[-1]["label_en"], rows[-1]["label_zh"] = labels.get(r["reason_code"], (None, None))
    return rows


def format_rows(rows: list[dict]) -> str:
    if not rows:
        return "no data in this period"
    lines = [f"{'period':<24}{'key':<24}{'count':>10}{'value':>18}{'rate':>10}"]
    for r in rows:
        value = "" if r["value"] is None else f"{r['value']:,.2f}"
        rate = "" if r["rate"] is None else f"{r['rate'] * 100:.2f}%"
        key = f"{r['key']} ({r['label_en']})" if r.get("label_en") else str(r["key"])
        lines.append(f"{r['period']:<24}{key[:23]:<24}{r['count']:>10,}{value:>18}{rate:>10}")
    return "\n".join(lines)


def _day(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _num(value):
    """A plain float (money stays exact enough for JSON), None for missing values."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number
