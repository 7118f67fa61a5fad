"""`python -m lib.cli bench` (SPEC §11, §12): the command; the measuring is lib/tools/bench.py."""
from lib.cli.common import emit, progress


def register(sub, common, acting) -> None:
    """Register bench (on a seeded copy of its own: no --db, no --user)."""
    p = sub.add_parser("bench", help="measure the speed and memory bars (SPEC §12) on a seeded copy")
    p.add_argument("--orders", type=int, default=200_000, help="orders in the seeded database (default 200000)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--markdown", metavar="FILE", help="also write the figures as a Markdown table")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where seeded databases are kept (default: $VOIDDESK_BENCH_DIR, else voiddesk-bench in the temp dir)")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    # here, not at the top: it imports lib.services.auth, which hashes a dummy password on import (≈0.4 s)
    from lib.tools.bench import format_markdown, format_table, run_bench

    figures = run_bench(args.orders, cache=args.cache_dir, say=progress(args))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write(format_markdown(figures))
    emit(args, figures, format_table(figures))
    return 0
