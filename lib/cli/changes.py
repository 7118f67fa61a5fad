"""`python -m lib.cli export changes` (SPEC §9, §11): the change feed back to the ERP — every void, restore, return,
return received, inspection and refund payout since a moment, or since the target's last export."""
import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from lib.cli.common import acting_user, emit, open_db
from lib.errors import InvalidInput

HELP = """columns:
  change_id (the audit entry: unique, rising), changed_at, event (void | restore | return | return_received |
  inspection | refund_paid), order_no, return_no, reason_code, amount (a void's or return's refund owed, a
  payout's amount), payment_ref, actor, note, details (the entry's JSON: lines, dispositions, stock released).

--since last:
  Every export with a target records how far it read, in the same transaction, so a nightly job sending
  `--since last` gets every change exactly once, whatever else writes meanwhile (on PostgreSQL too). Before a
  target's first export "last" means the beginning. --since TIMESTAMP moves a target's mark only with --target.

examples:
  python -m lib.cli export changes --since last --target erp --format csv --out changes.csv --user lead
  python -m lib.cli export changes --since 2026-12-01 --format xlsx --out december.xlsx --user lead"""


def register(sub, common, acting) -> None:
    """Register `export changes`."""
    p = sub.add_parser("export", parents=[common, acting], help="the change feed back to the ERP (SPEC §9)",
                       description=__doc__.split("\n\n")[0], epilog=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("changes",))
    p.add_argument("--since", metavar="TIMESTAMP|last", required=True,
                   help="2026-12-01, 2026-12-01T08:00 (local time), or last: since --target's last export")
    p.add_argument("--target", metavar="NAME", help="whose mark to read and move on (letters, digits, - _ .;"
                                                    " default with --since last: erp)")
    p.add_argument("--format", choices=("csv", "xlsx", "parquet"), default="csv")
    p.add_argument("--out", metavar="PATH", help="where to write the file (default: CSV on standard output)")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from lib.services.change_feed import as_bytes, export_changes

    last = args.since.strip().lower() == "last"
    since = "last" if last else _moment(args.since)
    if args.format != "csv" and not args.out and not args.json:
        raise InvalidInput("changes.needs_out", format=args.format)
    started = time.perf_counter()
    db = open_db(args)
    user = acting_user(db, args.user)
    feed = export_changes(db, user, since, args.target or ("erp" if last else None))
    if args.json:
        rows = feed.rows.astype(object).where(feed.rows.notna(), None).to_dict("records")
        emit(args, {"rows": len(rows), "target": feed.target, "seconds": round(time.perf_counter() - started, 2),
                    "changes": rows}, "")
        return 0
    content = as_bytes(feed.rows, args.format)
    if args.out:
        Path(args.out).write_bytes(content)
        print(f"{len(feed.rows):,} changes written to {args.out}"
              + (f"; {feed.target}'s mark moved on" if feed.target else ""), file=sys.stderr)
    else:
        sys.stdout.write(content.decode("utf-8-sig"))
    return 0


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("changes.bad_since", value=text[:40]) from None
