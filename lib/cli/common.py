"""What the commands of `python -m lib.cli` share: the parent parsers, the database, the acting user, the output."""
import argparse
import json
import sys
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import duckdb
import psycopg
from psycopg_pool import PoolTimeout

from lib.config import db_path
from lib.db import Database, apply_migrations, connect, rows_as_dicts
from lib.db_postgres import redact
from lib.errors import InvalidInput, NotFound

_opened: list[Database] = []


def parents() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The parent parsers: `common` (--db, --json) for every command, `acting` (--user) for those acting as someone."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH|URL", help="a DuckDB file, or postgresql://user:pass@host:port/dbname for"
                                                          " a shared PostgreSQL server (default: $VOIDDESK_DB or"
                                                          " data/voiddesk.duckdb)")
    common.add_argument("--json", action="store_true", help="print JSON")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--user", metavar="USERNAME", help="act as this user (same permissions as in the app)")
    return common, acting


def open_db(args) -> Database:
    """The --db database, migrated; main() closes it when the command is done."""
    path = db_path(args.db)
    try:
        db = connect(path)
        _opened.append(db)
        apply_migrations(db)
    except (duckdb.IOException, psycopg.OperationalError, PoolTimeout) as exc:
        close_databases()
        raise SystemExit(f"error: cannot open the database {redact(path)}: {str(exc).strip().splitlines()[0]}")
    return db


def close_databases() -> None:
    """Close what open_db opened: a caller in this process (a test) may open the file next with another
    configuration (read-only), which DuckDB refuses while this handle is open."""
    while _opened:
        _opened.pop().close()


def acting_user(db: Database, username: str | None, required: bool = True):
    """The --user account, which must exist and be active."""
    # here, not at the top: lib.services.auth hashes a dummy password on import (≈0.4 s); --help needn't wait
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


def day_arg(value: str) -> date:
    """An argparse type: a calendar day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a calendar day written YYYY-MM-DD") from None


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


# Exit statuses (README "Command line"): 0 done; 1 refused, nothing changed; 2 usage error (argparse);
# 3 partly done: a batch applied some orders and refused others (the refused ones are named on stderr).
EXIT_PARTIAL = 3


def refused_exit(rows: list[dict], dry_run: bool = False) -> int:
    """The exit status of a batch: 0 when nothing was refused, EXIT_PARTIAL when others went through, else 1; a
    line on stderr names the first refusal. A dry run changed nothing, so any refusal is 1."""
    refused = [r for r in rows if r["outcome"] == "refused"]
    if not refused:
        return 0
    say_error(f"{len(refused)} of {len(rows)} refused; {refused[0]['message']}")
    return EXIT_PARTIAL if len(refused) < len(rows) and not dry_run else 1


def emit(args, data, text: str) -> None:
    """Print JSON with --json, else readable text."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=_json_default))
    else:
        print(text)


def progress(args):
    """A printer of progress lines on stderr, or None with --json."""
    return None if args.json else (lambda msg: print(f"  {msg}", file=sys.stderr))


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
