"""python -m lib.cli COMMAND … — the same services, rules and permissions as the web app (SPEC §11).

Every refusal or error prints one line on stderr and exits non-zero; --json prints machine-readable output.
Each module here registers one group of commands on the parser (`register(sub, common, acting)`); common.py holds
what they share.
"""
import argparse
import sys

import duckdb

from lib.cli import bench, catalog, imports, orders, returns, setup, stats, users, voids
from lib.cli.common import close_databases, parents, refuse_undecodable, say_error
from lib.errors import VoidDeskError

EPILOG = "The database is --db PATH, else $VOIDDESK_DB, else data/voiddesk.duckdb."
GROUPS = (setup, users, catalog, orders, voids, returns, imports, stats, bench)


def build_parser() -> argparse.ArgumentParser:
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
    except duckdb.Error as exc:
        say_error(f"database: {str(exc).splitlines()[0]}")
        return 1
    finally:
        close_databases()
