"""`python -m lib.cli import orders|lines|customers|products|stock FILE` (SPEC §9, §11): the wizard's import for
scheduled loads. Every row is checked; the file loads all or nothing. Rejected rows go to a CSV report (row in the
source, field, value, reason) and the command exits 1 with one line saying so."""
import sys
from pathlib import Path

from lib.errors import InvalidInput

HELP = """kinds:
  orders     one row per order line, the order's header (number, customer, date, status, warehouse) repeated
             on each; or one row per order with a total and no SKU column. Open orders (pending, processing)
             reserve stock; voided ones get a void record with the reason 'imported'.
  lines      lines for orders already in the database that have none yet (e.g. imported header-only);
             an order that already has lines is refused. Its total becomes the sum of its lines.
  customers  new customers (code, name, city, phone); existing codes are refused.
  products   new products (SKU, name, category, unit price); existing SKUs are refused.
  stock      quantities received per warehouse and SKU, added to on hand (and quarantine) through the ledger.

Columns are matched by header (English or common Chinese names such as 订单编号, 客户名称, 下单时间, 订单状态,
商品编码, 数量, 单价, 仓库) unless --mapping gives the JSON the import page saves. CSV may be UTF-8 (with or
without BOM) or GBK/GB18030, separated by commas, semicolons, tabs or |."""


def add_command(sub, common, acting) -> None:
    """Register `import` on the CLI's sub-parsers."""
    import argparse

    from lib.imports.fields import KINDS
    from lib.imports.sniff import ENCODINGS

    p = sub.add_parser("import", parents=[common, acting], help="import a CSV, Excel or Parquet file (all or nothing)",
                       description=__doc__.split("\n\n")[0], epilog=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--mapping", metavar="FILE", help="column and value mapping saved by the import page (JSON)")
    p.add_argument("--encoding", metavar="E", default="auto", help=f"CSV text encoding: {', '.join(ENCODINGS)}")
    p.add_argument("--report", metavar="PATH",
                   help="where to write rejected rows (default: FILE.rejects.csv beside the file)")
    p.add_argument("--dry-run", action="store_true", help="check every row and report; load nothing")
    p.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    from lib.cli import acting_user, emit, open_db, say_error
    from lib.domain import require
    from lib.imports import check_import, propose, read_path, run_import
    from lib.imports.mapping import from_json, with_proposals

    db = open_db(args)
    user = acting_user(db, args.user)
    require(user, "import.run")   # before reading a file this user may not import anyway
    try:
        source = read_path(args.file, args.encoding)
    except OSError:   # a name too long for the file system, a file or folder we may not read
        raise InvalidInput("import.no_such_file", path=args.file[:200]) from None
    if args.mapping:
        mapping = with_proposals(from_json(_read_mapping(args.mapping), args.kind), source)
    else:
        mapping = propose(args.kind, source)
    progress = None if args.json else _progress
    work = check_import if args.dry_run else run_import
    result = work(db, user, source, mapping, lang="en", progress=progress)
    report = _write_report(args, result.report) if result.report else None
    data = {"loaded": result.loaded, "rejected": result.rejected, "report": report, "rows": result.rows,
            "counts": result.counts}
    emit(args, data, _text(args, result, report))
    if result.rejected:
        say_error(f"{result.rejected} of {result.rows} rows rejected; nothing loaded; see {report}")
        return 1
    return 0


def _read_mapping(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput("import.no_such_file", path=path) from None


def _write_report(args, content: bytes) -> str:
    path = Path(args.report) if args.report else Path(args.file).with_name(Path(args.file).name + ".rejects.csv")
    path.write_bytes(content)
    return str(path)


def _progress(fraction: float, key: str) -> None:
    from lib.i18n import t

    print(f"  {fraction * 100:5.1f}%  {t(key)}", file=sys.stderr)


def _text(args, result, report: str | None) -> str:
    if result.rejected:
        first = result.problems.head(5).to_dict("records") if result.problems is not None else []
        lines = [f"  row {p['row']}: {p['field']}: {p['reason']}" for p in first]
        return "\n".join([f"{result.rejected} of {result.rows} rows rejected; report: {report}"] + lines)
    if args.dry_run:
        return f"{result.rows} rows checked; none rejected (dry run: nothing loaded)"
    written = ", ".join(f"{table} {n:,}" for table, n in result.counts.items())
    return f"{result.loaded:,} rows loaded from {result.file_name}: {written}"
