"""python -m lib.cli COMMAND … — the same services, rules and permissions as the web app (SPEC §11).

Every refusal or error prints one line on stderr and exits non-zero (1: refused, nothing changed; 2: usage;
3: a batch partly done, the refused ones named); --json prints machine-readable output.
Each module here registers one group of commands on the parser (`register(sub, common, acting)`); common.py holds
what they share.
"""
import argparse
import sys
from functools import lru_cache

from lib.cli import bench, catalog, changes, chat, imports, orders, returns, setup, stats, users, voids
from lib.cli.common import close_databases, parents, refuse_undecodable, say_error
from lib.db import DATABASE_ERRORS
from lib.errors import VoidDeskError

EPILOG = ("The database is --db PATH|URL, else $VOIDDESK_DB, else data/voiddesk.duckdb: a DuckDB file, or"
          " postgresql://user:pass@host:port/dbname for a shared PostgreSQL server. Exit status: 0 done; 1 refused,"
          " nothing changed; 2 usage error; 3 a batch (void, approve, reject of several orders) partly done: the"
          " refused orders are named, the others went through.")
GROUPS = (setup, users, catalog, orders, voids, returns, imports, changes, chat, stats, bench)


@lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    """The whole command line, built once per process (some 130 arguments: building it costs more than most
    commands' work; a parser parses any number of argument lists)."""
    common, acting = parents()
    parser = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__.splitlines()[0],
                                     epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub, common, acting)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a refusal or a database error prints one line on stderr and returns 1."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        refuse_undecodable(argv)
        return args.func(args)
    except VoidDeskError as exc:
        say_error(exc.message("en"))
        return 1
    except DATABASE_ERRORS as exc:
        say_error(f"database: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}")
        return 1
    finally:
        close_databases()
