"""Setting a database up and looking after it (SPEC §9, §11): init-db, seed, check, mail, migrate --to."""
import time

from lib.cli.common import day_arg, emit, open_db, progress
from lib.config import db_path
from lib.db import apply_migrations, schema_version
from lib.db_postgres import redact
from lib.errors import InvalidInput, NotEmpty
from lib.queries.check import run_checks
from lib.services.mailer import config_from_env, send_pending

ALL_OK = ("ok: ledger equals balances, no negative stock, every voided order has its void record,"
          " returns within shipped, refunds within payments, every state change has an audit entry,"
          " each order's category mask and main SKU match its lines")


def register(sub, common, acting) -> None:
    """Register init-db, seed, check and mail."""
    p = sub.add_parser("init-db", parents=[common], help="create or migrate the schema")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("seed", parents=[common], help="fill an empty database with demo data")
    p.add_argument("--orders", type=int, default=200_000, help="number of orders (default 200000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--today", type=day_arg, default=None, metavar="YYYY-MM-DD",
                   help="the day the demo treats as today: every event lies before it"
                        " (default: today, or $VOIDDESK_TODAY)")
    p.add_argument("--if-empty", action="store_true",
                   help="do nothing (and succeed) when the database already holds data")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("check", parents=[common], help="verify the invariants; exit 1 when not ok")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("mail", parents=[common], help="send the notification mail outbox once (needs VOIDDESK_SMTP_*)")
    p.set_defaults(func=cmd_mail)

    p = sub.add_parser("migrate", parents=[common],
                       help="move up: copy the DuckDB file (--db) into an empty PostgreSQL database (--to)",
                       description="Copies every table of the DuckDB database --db into the empty PostgreSQL database"
                                   " --to in one transaction, sets its sequences past the copied ids, and keeps the"
                                   " copy only when every table's row count and money sums are equal; `check` runs"
                                   " on both ends. Refuses a PostgreSQL database that already holds data. Exit 0"
                                   " when both checks are ok, 1 otherwise.")
    p.add_argument("--to", required=True, metavar="URL", help="postgresql://user:pass@host:port/dbname (empty)")
    p.set_defaults(func=cmd_migrate)


def cmd_init_db(args) -> int:
    db = open_db(args)
    version = schema_version(db)
    emit(args, {"version": version}, f"schema version {version} at {db.display_name}")
    return 0


def cmd_seed(args) -> int:
    # here, not at the top: it imports lib.services.auth, which hashes a dummy password on import (≈0.4 s)
    from lib.seed import seed

    db = open_db(args)
    started = time.perf_counter()
    try:
        if db.backend == "postgresql":   # seeded in a temporary DuckDB file, then moved up whole
            counts = _seed_server(db, args, seed)
        else:
            counts = seed(db, orders=args.orders, seed=args.seed, today=args.today, progress=progress(args))
    except NotEmpty:
        if not args.if_empty:
            raise
        emit(args, {}, f"{db.display_name} already holds data; nothing seeded")
        return 0
    seconds = time.perf_counter() - started
    lines = "\n".join(f"  {table:<24}{n:>12,}" for table, n in counts.items())
    emit(args, {**counts, "seconds": round(seconds, 2)}, f"seeded {db.display_name} in {seconds:.1f} s\n{lines}")
    return 0


def _seed_server(db, args, seed) -> dict:
    import tempfile
    from pathlib import Path

    from lib.db import Database
    from lib.move_up import filled_tables, move_up

    with db.read() as cur:
        if filled_tables(cur):
            raise NotEmpty()
    with tempfile.TemporaryDirectory(prefix="voiddesk-seed-") as scratch:
        demo = Database(str(Path(scratch) / "demo.duckdb"))
        try:
            apply_migrations(demo)
            counts = seed(demo, orders=args.orders, seed=args.seed, today=args.today, progress=progress(args))
            move_up(demo, db)
        finally:
            demo.close()
    return counts


def cmd_migrate(args) -> int:
    from lib.db import connect, is_server_url
    from lib.move_up import move_up

    if is_server_url(db_path(args.db)) or not is_server_url(args.to):
        raise InvalidInput("migrate.same_backend")
    source = open_db(args)
    started = time.perf_counter()
    target = connect(args.to)
    try:
        report = move_up(source, target, progress=progress(args))
    finally:
        target.close()
    seconds = time.perf_counter() - started
    lines = "\n".join(f"  {table:<24}{n:>12,}" for table, n in report["tables"].items())
    verdict = "check ok on both ends" if report["checks_ok"] else "check NOT ok: run `check` on both"
    emit(args, {**report, "seconds": round(seconds, 2)},
         f"copied {source.display_name} into {redact(args.to)} in {seconds:.1f} s; {verdict}\n{lines}")
    return 0 if report["checks_ok"] else 1


def cmd_check(args) -> int:
    result = run_checks(open_db(args))
    if result["ok"]:
        text = ALL_OK
    else:
        text = "\n".join(f"PROBLEM {p['check']}: {p['count']}\n  " + "\n  ".join(p["examples"])
                         for p in result["problems"])
    emit(args, result, text)
    return 0 if result["ok"] else 1


def cmd_mail(args) -> int:
    """Send the mail outbox once (for a scheduled job; the app also sends every minute when configured)."""
    config = config_from_env()
    if config is None:
        raise SystemExit("error: SMTP is not configured (set VOIDDESK_SMTP_HOST and friends); mail stays in the outbox")
    counts = send_pending(open_db(args), config)
    emit(args, counts, f"sent {counts['sent']}, failed {counts['failed']}, still waiting {counts.get('waiting', 0)}")
    return 0 if not counts["failed"] else 1
