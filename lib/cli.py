"""python -m lib.cli COMMAND … — the same services, rules and permissions as the web app (SPEC §11).

Every refusal or error prints one line on stderr and exits non-zero; --json prints machine-readable output.
"""
import argparse
import json
import sys
import time
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import duckdb

from lib.config import db_path
from lib.db import Database, apply_migrations, rows_as_dicts
from lib.errors import InvalidInput, NotFound, VoidDeskError

EPILOG = "The database is --db PATH, else $VOIDDESK_DB, else data/voiddesk.duckdb."


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def emit(args, data, text: str) -> None:
    """Print JSON with --json, else readable text."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=_json_default))
    else:
        print(text)


def open_db(args) -> Database:
    try:
        db = Database(db_path(args.db))
    except duckdb.IOException as exc:
        raise SystemExit(f"error: cannot open the database {db_path(args.db)}: {str(exc).splitlines()[0]}")
    apply_migrations(db)
    return db


def acting_user(db: Database, username: str | None, required: bool = True):
    """The --user account, which must exist and be active."""
    from lib.services.auth import user_from_row

    if not username:
        if required:
            raise SystemExit("error: this command needs --user USERNAME")
        return None
    with db.read() as cur:
        rows = rows_as_dicts(cur, "SELECT id, username, display_name, role, language, must_change_password,"
                                  " active FROM users WHERE username = ?", [username.strip().lower()])
    if not rows or not rows[0]["active"]:
        raise NotFound("users.not_found", username=username)
    return user_from_row(rows[0])


def _day_arg(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a calendar day written YYYY-MM-DD") from None


# --- commands -------------------------------------------------------------------------------

def cmd_init_db(args) -> int:
    db = open_db(args)
    from lib.db import schema_version

    version = schema_version(db)
    emit(args, {"version": version}, f"schema version {version} at {db.path}")
    return 0


def cmd_seed(args) -> int:
    from lib.errors import NotEmpty
    from lib.seed import seed

    db = open_db(args)
    started = time.perf_counter()
    progress = None if args.json else (lambda msg: print(f"  {msg}", file=sys.stderr))
    try:
        counts = seed(db, orders=args.orders, seed=args.seed, today=args.today, progress=progress)
    except NotEmpty:
        if not args.if_empty:
            raise
        emit(args, {}, f"{db.path} already holds data; nothing seeded")
        return 0
    seconds = time.perf_counter() - started
    lines = "\n".join(f"  {table:<24}{n:>12,}" for table, n in counts.items())
    emit(args, counts, f"seeded {db.path} in {seconds:.1f} s\n{lines}")
    return 0


def cmd_check(args) -> int:
    from lib.queries.check import run_checks

    result = run_checks(open_db(args))
    if result["ok"]:
        text = ("ok: ledger equals balances, no negative stock, every voided order has its void record,"
                " returns within shipped, refunds within payments, every state change has an audit entry")
    else:
        text = "\n".join(f"PROBLEM {p['check']}: {p['count']}\n  " + "\n  ".join(p["examples"])
                         for p in result["problems"])
    emit(args, result, text)
    return 0 if result["ok"] else 1


def cmd_search(args) -> int:
    from lib.queries.search import SearchFilters, search_orders

    db = open_db(args)
    user = acting_user(db, args.user)
    filters = SearchFilters.from_params({
        "number": args.number, "customer": args.customer, "status": args.status, "payment": args.payment,
        "from": args.date_from, "to": args.date_to, "product": args.sku, "category": args.category,
        "rep": args.rep, "assignee": args.assignee, "warehouse": args.warehouse, "source": args.source,
        "min_total": args.min_total, "max_total": args.max_total, "void_reason": args.void_reason,
        "voided_from": args.voided_from, "voided_to": args.voided_to, "return_reason": args.return_reason,
        "returned_from": args.returned_from, "returned_to": args.returned_to,
        "returned_product": args.returned_sku, "returned_category": args.returned_category})
    result = search_orders(db, user, filters, sort=args.sort, limit=args.limit, offset=args.offset)
    rows = result.rows.astype(object).where(result.rows.notna(), None).to_dict("records")
    keys = ("order_no", "status", "payment_status", "customer", "total", "created_at", "rep", "assignee",
            "warehouse")
    orders = [{k: row[k] for k in keys} for row in rows]
    emit(args, {"total": result.total, "orders": orders}, _search_text(result.total, orders, args.offset))
    return 0


def _search_text(total: int, orders: list[dict], offset) -> str:
    if not orders:
        return f"no orders on this page ({total:,} match)"
    lines = [f"{'ORDER':<20}{'STATUS':<11}{'PAYMENT':<19}{'TOTAL':>13}  {'CREATED':<17}{'REP':<10}"
             f"{'ASSIGNEE':<10}{'WH':<4}CUSTOMER"]
    for o in orders:
        lines.append(f"{o['order_no']:<20}{o['status']:<11}{o['payment_status']:<19}{o['total']:>13,.2f}  "
                     f"{o['created_at']:%Y-%m-%d %H:%M}  {o['rep'] or '–':<10}{o['assignee'] or '–':<10}"
                     f"{o['warehouse']:<4}{o['customer'] or '–'}")
    first = int(offset) + 1
    lines.append(f"{first:,}–{first + len(orders) - 1:,} of {total:,} orders")
    return "\n".join(lines)


def cmd_show(args) -> int:
    from lib.queries.orders import get_order, timeline

    db = open_db(args)
    user = acting_user(db, args.user)
    order = get_order(db, user, args.order_no)
    order["timeline"] = timeline(db, user, order["id"], "en")
    emit(args, order, _show_text(order))
    return 0


def _show_text(o: dict) -> str:
    lines = [f"{o['order_no']}  {o['status']} · {o['payment_status']}  (version {o['version']})",
             f"customer   {o['customer_name'] or '–'} ({o['customer_code'] or '–'})",
             f"rep        {o['rep_name'] or '–'}    assignee {o['assignee_name'] or '–'}    "
             f"warehouse {o['warehouse']}",
             f"total      {o['total']:,.2f}    paid {o['amount_paid']:,.2f}    refunded {o['amount_refunded']:,.2f}",
             f"created    {o['created_at']:%Y-%m-%d %H:%M}",
             "", f"{'#':>3} {'SKU':<14}{'QTY':>6}{'PRICE':>12}{'AMOUNT':>13}{'SHIPPED':>9}{'RETURNED':>10}"
                 f"{'AVAILABLE':>11}  PRODUCT"]
    for ln in o["lines"]:
        lines.append(f"{ln['line_no']:>3} {ln['sku']:<14}{ln['qty']:>6}{ln['unit_price']:>12,.2f}"
                     f"{ln['amount']:>13,.2f}{ln['qty_shipped']:>9}{ln['qty_returned']:>10}{ln['available']:>11}"
                     f"  {ln['product_name'] or '–'}")
    if o["pending_void"]:
        lines += ["", f"void request awaiting approval: {o['pending_void']['reason_label_en']}"]
    lines += ["", "timeline (newest first)"]
    for e in o["timeline"]:
        note = f" — {e['note']}" if e["note"] else ""
        lines.append(f"  {e['at']:%Y-%m-%d %H:%M}  {e['actor']}: {e['summary']}{note}")
    return "\n".join(lines)


def cmd_stock(args) -> int:
    from lib.domain import User
    from lib.queries.stock import stock_levels

    db = open_db(args)
    # Stock levels are not personal: without --user the command reads as an analyst would.
    user = acting_user(db, args.user, required=False) or User(0, "cli", "cli", "analyst")
    levels = stock_levels(db, user, sku=args.sku, warehouse=args.warehouse)
    keys = ("warehouse", "sku", "on_hand", "reserved", "available", "quarantine")
    rows = [{k: (int(r[k]) if k not in ("warehouse", "sku") else r[k]) for k in keys}
            for r in levels.to_dict("records")]
    text = "\n".join([f"{'WH':<4}{'SKU':<16}{'ON HAND':>9}{'RESERVED':>10}{'AVAILABLE':>11}{'QUARANTINE':>12}"]
                     + [f"{r['warehouse']:<4}{r['sku']:<16}{r['on_hand']:>9}{r['reserved']:>10}{r['available']:>11}"
                        f"{r['quarantine']:>12}" for r in rows]) if rows else "no stock rows match"
    emit(args, rows, text)
    return 0


def cmd_mail(args) -> int:
    """Send the mail outbox once (for a scheduled job; the app also sends every minute when configured)."""
    from lib.services.mailer import config_from_env, send_pending

    config = config_from_env()
    if config is None:
        raise SystemExit("error: SMTP is not configured (set VOIDDESK_SMTP_HOST and friends); mail stays in the outbox")
    counts = send_pending(open_db(args), config)
    emit(args, counts, f"sent {counts['sent']}, failed {counts['failed']}, still waiting {counts.get('waiting', 0)}")
    return 0 if not counts["failed"] else 1


def cmd_bench(args) -> int:
    from lib.tools.bench import format_markdown, format_table, run_bench

    progress = None if args.json else (lambda msg: print(f"  {msg}", file=sys.stderr))
    figures = run_bench(args.orders, cache=args.cache_dir, say=progress)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write(format_markdown(figures))
    emit(args, figures, format_table(figures))
    return 0


# --- parser ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", help="database file (default: $VOIDDESK_DB or data/voiddesk.duckdb)")
    common.add_argument("--json", action="store_true", help="print JSON")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--user", metavar="USERNAME", help="act as this user (same permissions as in the app)")

    parser = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__.splitlines()[0],
                                     epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init-db", parents=[common], help="create or migrate the schema")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("seed", parents=[common], help="fill an empty database with demo data")
    p.add_argument("--orders", type=int, default=200_000, help="number of orders (default 200000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--today", type=_day_arg, default=None, metavar="YYYY-MM-DD",
                   help="the day the demo treats as today: every event lies before it"
                        " (default: today, or $VOIDDESK_TODAY)")
    p.add_argument("--if-empty", action="store_true",
                   help="do nothing (and succeed) when the database already holds data")
    p.set_defaults(func=cmd_seed)

    from lib.cli_users import add_commands as add_user_commands   # users list|add|set-role|deactivate
    add_user_commands(sub, common, acting)

    p = sub.add_parser("check", parents=[common], help="verify the invariants; exit 1 when not ok")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("search", parents=[common, acting], help="find orders (SPEC §3)")
    p.add_argument("--number", metavar="PREFIX", help="order number, exact or prefix")
    p.add_argument("--customer", metavar="TEXT", help="customer name contains, or customer code (any case)")
    p.add_argument("--status", metavar="S", action="append", help="order status (repeatable)")
    p.add_argument("--payment", metavar="P", action="append", help="payment state (repeatable)")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="created on or after (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="created on or before (YYYY-MM-DD)")
    p.add_argument("--sku", metavar="SKU", help="an exact SKU, else SKU prefix or product name contains")
    p.add_argument("--category", metavar="C", action="append", help="product category (repeatable)")
    p.add_argument("--rep", metavar="NAME", action="append", help="sales rep username (repeatable)")
    p.add_argument("--assignee", metavar="NAME", action="append", help="assignee username (repeatable)")
    p.add_argument("--warehouse", metavar="W", action="append", help="warehouse code (repeatable)")
    p.add_argument("--source", metavar="S", action="append", help="app, import or demo (repeatable)")
    p.add_argument("--min-total", metavar="X")
    p.add_argument("--max-total", metavar="X")
    p.add_argument("--void-reason", metavar="CODE", action="append",
                   help="has a void in effect with this reason (repeatable)")
    p.add_argument("--voided-from", metavar="DATE", help="has a void in effect applied on or after")
    p.add_argument("--voided-to", metavar="DATE", help="has a void in effect applied on or before")
    p.add_argument("--return-reason", metavar="CODE", action="append",
                   help="has a return note with this reason (repeatable)")
    p.add_argument("--returned-from", metavar="DATE", help="has a return note created on or after")
    p.add_argument("--returned-to", metavar="DATE", help="has a return note created on or before")
    p.add_argument("--returned-sku", metavar="SKU", help="has a return note with a line of this SKU")
    p.add_argument("--returned-category", metavar="C", action="append",
                   help="has a return note with a line in this category (repeatable)")
    p.add_argument("--sort", metavar="FIELD[:desc]", default="created_at:desc",
                   help="order_no, created_at, total, customer, status, payment_status, rep or warehouse")
    p.add_argument("--limit", metavar="N", default="50")
    p.add_argument("--offset", metavar="N", default="0")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", parents=[common, acting], help="one order with its lines and timeline")
    p.add_argument("order_no")
    p.set_defaults(func=cmd_show)

    from lib.cli_voids import add_commands as add_void_commands   # void, approve, reject, restore
    add_void_commands(sub, common, acting)
    from lib.cli_import import add_command as add_import_command   # import orders|lines|customers|products|stock
    add_import_command(sub, common, acting)

    from lib.cli_returns import add_commands as add_return_commands   # return, inspect
    add_return_commands(sub, common, acting)

    p = sub.add_parser("stock", parents=[common, acting], help="stock levels per warehouse and SKU")
    p.add_argument("--sku", metavar="SKU", help="SKU prefix or product name")
    p.add_argument("--warehouse", metavar="W", action="append", help="warehouse code (repeatable)")
    p.set_defaults(func=cmd_stock)

    from lib.cli_stats import add_commands as add_stats_command   # stats voids|returns
    add_stats_command(sub, common, acting)
    from lib.cli_catalog import add_commands as add_catalog_commands   # warehouses|categories list|add|rename
    add_catalog_commands(sub, common, acting)

    p = sub.add_parser("mail", parents=[common], help="send the notification mail outbox once (needs VOIDDESK_SMTP_*)")
    p.set_defaults(func=cmd_mail)
    p = sub.add_parser("bench", help="measure the speed and memory bars (SPEC §12) on a seeded copy")
    p.add_argument("--orders", type=int, default=200_000, help="orders in the seeded database (default 200000)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--markdown", metavar="FILE", help="also write the figures as a Markdown table")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where seeded databases are kept (default: $VOIDDESK_BENCH_DIR, else voiddesk-bench in the temp dir)")
    p.set_defaults(func=cmd_bench)
    return parser


def say_error(text: str) -> None:
    """One line on stderr: line breaks and other control characters from user input (an order number, a note) are
    shown escaped, so they can neither split the line nor drive the terminal."""
    shown = "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Zl", "Zp")
                    else ch for ch in text)
    print(f"error: {shown}", file=sys.stderr)


def refuse_undecodable(argv: list[str]) -> None:
    """Bytes that were not UTF-8 reach Python as lone surrogates, which no text column can hold: say so plainly."""
    for arg in argv:
        shown = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in arg)
        if shown != arg:
            raise InvalidInput("cli.not_text", value=shown[:40])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        refuse_undecodable(argv)
        return args.func(args)
    except VoidDeskError as exc:
        say_error(exc.message("en"))
        return 1
    except duckdb.Error as exc:
        say_error(f"database: {str(exc).splitlines()[0]}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
