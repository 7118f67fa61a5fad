"""`stats explain` and `stats spikes` (issue #17): why a rate or count changed between two periods, and the spike
alerts as a scheduled job (`--notify` tells ops leads and analysts once per new spike)."""
import time
from dataclasses import replace
from datetime import timedelta

from lib import clock
from lib.analytics import explain
from lib.analytics.filters import AnalyticsFilters
from lib.analytics.spikes import monday
from lib.cli.common import acting_user, emit, open_db
from lib.errors import InvalidInput


def cmd_explain(args, filters_from_args) -> int:
    db = open_db(args)
    user = acting_user(db, args.user)
    if args.what not in explain.KINDS:
        raise InvalidInput("analytics.bad_kind", value=str(args.what or "")[:40], allowed=", ".join(explain.KINDS))
    f = filters_from_args(args)
    before = _comparison(args, f)
    started = time.perf_counter()
    result = explain.explain(db, user, args.what, (before.date_from, before.date_to), (f.date_from, f.date_to),
                             by=args.by, measure=args.measure, filters=f)
    result["seconds"] = round(time.perf_counter() - started, 3)
    emit(args, result, format_explanation(result))
    return 0


def _comparison(args, f: AnalyticsFilters) -> AnalyticsFilters:
    """--vs-from / --vs-to, else the equal-length period just before --from."""
    if not args.vs_from and not args.vs_to:
        return f.previous()
    if not (args.vs_from and args.vs_to):
        raise InvalidInput("explain.vs_both")
    return AnalyticsFilters.from_params({"from": args.vs_from, "to": args.vs_to}, clock.today())


def format_explanation(r: dict) -> str:
    pct = r["measure"] == "rate"

    def num(x) -> str:
        return "" if x is None else (f"{x * 100:+.4f} pp" if pct else f"{x:+,}" if isinstance(x, int) else f"{x:+,.2f}")

    def side(s) -> str:
        rate = "" if s["rate"] is None else f" = {s['rate'] * 100:.2f}%"
        return f"{s['count']:,} / {s['base']:,}{rate}"
    lines = [f"{r['kind']} {r['measure']} by {r['by']}: {r['before']['from']}..{r['before']['to']} {side(r['before'])}"
             f" -> {r['after']['from']}..{r['after']['to']} {side(r['after'])}; change {num(r['change'])}",
             f"{'key':<20}{'label':<26}{'contribution':>16}{'mix':>16}{'rate effect':>16}  before -> after"]
    for row in r["rows"]:
        key = "(rest)" if row["key"] is None else row["key"] or "(none)"
        lines.append(f"{key[:19]:<20}{row['label'][:25]:<26}{num(row['contribution']):>16}{num(row['mix']):>16}"
                     f"{num(row['rate_effect']):>16}  {side(row['before'])} -> {side(row['after'])}")
    return "\n".join(lines)


def cmd_spikes(args, filters_from_args) -> int:
    from lib.services.spike_alerts import KINDS, alert_new_spikes

    db = open_db(args)
    user = acting_user(db, args.user)
    kinds = KINDS if args.what is None else (_one_kind(args.what),)
    if not args.date_from and not args.date_to:   # a scheduled job looks at this week and the last
        start = monday(clock.today()) - timedelta(days=7)
        f = replace(filters_from_args(args), date_from=start, date_to=clock.today())
    else:
        f = filters_from_args(args)
    if args.notify:
        found = alert_new_spikes(db, user, f, kinds)
    else:
        from lib.analytics import spikes
        found = [{"kind": k, "reason_code": s.reason_code, "week": s.week.isoformat(), "count": s.count,
                  "threshold": s.threshold} for k in kinds for s in spikes.spikes(db, user, f, k)]
    emit(args, found, "\n".join(f"{s['kind']:<8}{s['week']:<12}{s['reason_code']:<22}{s['count']:>8} (≥ {s['threshold']})"
                                 + ("  notified" if s.get("new") else "  already notified" if args.notify else "")
                                 for s in found) or "no spikes")
    return 0


def _one_kind(what: str) -> str:
    kind = {"voids": "void", "returns": "return"}.get(what)
    if kind is None:
        raise InvalidInput("analytics.bad_kind", value=str(what)[:40], allowed="voids, returns")
    return kind
