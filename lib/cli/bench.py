"""`python -m lib.cli bench` (SPEC §11, §12): the command; the measuring is lib/tools/bench.py."""
from lib.cli.common import emit, progress


def register(sub, common, acting) -> None:
    """Register bench (on a seeded copy of its own, no --user; --db only names a PostgreSQL server)."""
    p = sub.add_parser("bench", help="measure the speed and memory bars (SPEC §12) on a seeded copy")
    p.add_argument("--orders", type=int, default=200_000, help="orders in the seeded database (default 200000)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--markdown", metavar="FILE", help="also write the figures as a Markdown table")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where seeded databases are kept (default: $VOIDDESK_BENCH_DIR, else voiddesk-bench in the temp dir)")
    p.add_argument("--db", metavar="URL", dest="server",
                   help="measure on this PostgreSQL server (postgresql://user@host:port/db) instead of a DuckDB file:"
                        " the seeded data is moved up once into a database voiddesk_bench_seed_<orders> there, and"
                        " each run works on a fresh copy of it, voiddesk_bench_work (the user needs CREATEDB)")
    p.add_argument("--import-lines", metavar="N", type=int, default=1_000_000,
                   help="order lines of the ERP export the import figures load (Parquet, CSV with a title row, then an"
                        " upsert of the same file), each in a process of its own; 0: no import figures"
                        " (default 1000000; on a DuckDB file only)")
    p.add_argument("--repeat", metavar="N", type=int, default=7,
                   help="timed calls per figure, after one warm-up call; the figure is their median (default 7)")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    # here, not at the top: it imports lib.services.auth, which hashes a dummy password on import (≈0.4 s)
    from lib.tools.bench import run_bench
    from lib.tools.bench_report import format_markdown, format_table

    from lib.db import is_server_url

    if args.server and not is_server_url(args.server):
        raise SystemExit("error: bench --db takes a PostgreSQL URL (postgresql://…); on DuckDB bench seeds and"
                         " copies a file of its own")
    if args.import_lines < 0:
        raise SystemExit("error: --import-lines takes 0 or more")
    if args.repeat < 1:
        raise SystemExit("error: --repeat takes 1 or more")
    figures = run_bench(args.orders, cache=args.cache_dir, say=progress(args), server=args.server,
                        import_lines=args.import_lines, repeat=args.repeat)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write(format_markdown(figures))
    emit(args, figures, format_table(figures))
    return 0
