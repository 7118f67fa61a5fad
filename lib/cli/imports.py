"""`python -m lib.cli import orders|lines|customers|products|stock FILE` (SPEC §9, §11): the wizard's import for
scheduled loads. Every row is checked; the file loads all or nothing. Rejected rows go to a CSV report (row in the
source, field, value, reason) and the command exits 1 with one line saying so. With --mode upsert, records already
in the database are compared and updated, or reported as conflicts and left as they are."""
import argparse
import sys
import time
from functools import partial
from pathlib import Path

from lib.cli.common import acting_user, emit, open_db, say_error
from lib.domain import require
from lib.errors import InvalidInput
from lib.i18n import t
from lib.imports import check_import, propose, read_path, run_import
from lib.imports.dates import ORDERS, check_order
from lib.imports.fields import KINDS
from lib.imports.mapping import from_json, template, with_proposals
from lib.imports.sniff import ENCODINGS, check_skip_rows
from lib.imports.upsert import MODES
from lib.queries.settings import read_rules
from lib.services.settings import MAX_IMPORT_MB

HELP = """kinds:
  orders     one row per order line, the order's header (number, customer, date, status, warehouse) repeated
             on each (one SKU may be on several lines: two prices, a free gift); or one row per order with
             a total (or none) and no SKU column. With lines and a total, the order keeps the file's total
             (tax, discount, freight included) unless the mapping's "totals" is "lines". Open orders (pending, processing)
             reserve stock; voided ones get a void record with the reason 'imported'.
  lines      lines for orders already in the database that have none yet (e.g. imported header-only);
             an order that already has lines is refused. An order imported without a total takes the sum
             of its lines; one with the ERP's total keeps it (unless the mapping's "totals" is "lines").
  customers  new customers (code, name, city, phone); existing codes are refused (--mode upsert: updated).
  products   new products (SKU, name, category, unit price); existing SKUs are refused (--mode upsert: updated).
  stock      quantities received per warehouse and SKU, added to on hand (and quarantine) through the ledger
             (--mode upsert: the file's count is what is on hand; the difference goes in as an adjustment).

--mode upsert (customers, products, stock, orders; for nightly loads from an ERP):
  New records are inserted, unchanged ones skipped, changed ones updated through the ledger and the app's own
  writes, each with an audit entry: an order cancelled in the ERP is voided with the reason 'imported' (stock
  released, a refund owed if it was paid); one the ERP moved on (processing, shipped, completed) moves the same
  way (shipping takes its stock); a changed payment or (kept) total is rewritten. Conflicts are left as they are
  and listed in FILE.conflicts.csv: an order voided here that the ERP shows open (never reopened), cancelled
  there but shipped here, a status behind VoidDesk's, another customer, warehouse, date or lines, a void
  request waiting, on-hand stock below what open orders reserve. Rejected rows still load nothing. Running the
  same file again changes nothing. The JSON output has "outcome": {inserted, updated, unchanged, conflicts,
  rejected}.

Columns are matched by header (English or common Chinese names such as 订单编号, 客户名称, 下单时间, 订单状态,
商品编码, 数量, 单价, 仓库) unless --mapping gives the JSON the import page saves. CSV may be UTF-8 (with or
without BOM) or GBK/GB18030, separated by commas, semicolons, tabs or |.

dates:
  Year first as always: 2026-03-05 14:30, 2026/3/5, 2026年3月5日, 20260305, Excel dates and serial numbers.
  Year last: 05/03/2026, 5.3.2026, 03-05-2026 14:30, 3/5/2026 2:30 PM. Whether 05/03 is the 5th of March or
  the 3rd of May is --date-order (else the mapping's "date_order", else auto): auto reads the values - a date
  such as 31/01/2026 makes the file day first, 01/31/2026 month first; a file with both is refused, naming one
  of each; when no date tells, the rows that could be either are rejected until you choose.
  With an offset or Z: 2026-03-05T14:30:00+08:00, 2026-03-05 14:30:00+0800, 2026-03-05T06:30:00Z are stored
  in this machine's local time (as every time VoidDesk records); dates without an offset are kept as written.

Excel:
  The sheet with the widest table is read (an empty or key/value cover sheet is passed over), unless --sheet
  names one, by name or number from 1 (or the mapping's "sheet"). An unknown sheet is refused, naming the
  sheets there are.

layout and size:
  Title rows above the column titles are passed over: the header is the first row about as full as the rows
  under it; --skip-rows N (or the mapping's "skip_rows") says how many rows to skip instead. Files are read a
  block at a time (memory stays flat; DuckDB spills to disk beyond 768 MB). The largest file accepted is the
  Rules page's "Largest import file" (1024 MB unless changed); --max-mb raises or lowers it for this run."""


def register(sub, common, acting) -> None:
    """Register `import`."""
    p = sub.add_parser("import", parents=[common, acting], help="import a CSV, Excel or Parquet file (all or nothing)",
                       description=__doc__.split("\n\n")[0], epilog=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", metavar="FILE", nargs="?", help="the file to import (with --template: where to write the"
                                                          " mapping template; '-' or none: print it)")
    p.add_argument("--template", action="store_true",
                   help="write a mapping file to fill in: every field of KIND (required ones marked), the accepted"
                        " values, fixed values and options, each described; nothing is imported")
    p.add_argument("--mapping", metavar="FILE", help="column and value mapping saved by the import page (JSON)")
    p.add_argument("--encoding", metavar="E", default="auto", help=f"CSV text encoding: {', '.join(ENCODINGS)}")
    p.add_argument("--sheet", metavar="NAME|NUMBER", help="Excel: the sheet to read, by name or number from 1"
                                                           " (default: the first holding a table)")
    p.add_argument("--skip-rows", metavar="N", help="rows above the header to skip (title rows); default: the"
                                                     " header is found by itself (or the mapping's \"skip_rows\")")
    p.add_argument("--max-mb", metavar="MB", type=float,
                   help="the largest file to read, in MB, for this run (default: the Rules page's"
                        " \"Largest import file\", 1024 unless changed)")
    p.add_argument("--date-order", metavar="ORDER", help=f"how to read 05/03/2026: {' | '.join(ORDERS)}"
                                                          " (default: the mapping's, else auto)")
    p.add_argument("--report", metavar="PATH",
                   help="where to write rejected rows (default: FILE.rejects.csv beside the file)")
    p.add_argument("--dry-run", action="store_true", help="check every row and report; load nothing")
    p.add_argument("--mode", choices=MODES, default="insert",
                   help="insert: new records only, one already here is refused (default); upsert: records already"
                        " here are compared and updated, or reported as conflicts (see below)")
    p.add_argument("--conflicts", metavar="PATH",
                   help="where to write an upsert's conflicts (default: FILE.conflicts.csv beside the file)")
    p.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    if args.template:
        text = template(args.kind)
        if args.file in (None, "-"):
            sys.stdout.write(text)
        else:
            Path(args.file).write_text(text, encoding="utf-8")
            print(f"mapping template for {args.kind} written to {args.file}")
        return 0
    if args.file is None:
        raise SystemExit("error: the import needs FILE (or --template)")
    started = time.perf_counter()   # reading the file and the import: what a scheduled job waits for
    db = open_db(args)
    user = acting_user(db, args.user)
    require(user, "import.run")   # before reading a file this user may not import anyway
    order = check_order(args.date_order) if args.date_order is not None else None
    saved = _saved_mapping(args)
    if args.max_mb is not None and not 0 < args.max_mb <= MAX_IMPORT_MB:
        raise InvalidInput("import.bad_max_mb", value=args.max_mb, high=MAX_IMPORT_MB)
    with db.read() as cur:
        limit_mb = args.max_mb or read_rules(cur).import_max_mb
    try:
        source = _read(args, saved, limit_mb)
    except OSError:   # a name too long for the file system, a file or folder we may not read
        raise InvalidInput("import.no_such_file", path=args.file[:200]) from None
    mapping = _mapping(args, saved, source, order)
    progress = None if args.json else _progress
    work = check_import if args.dry_run else run_import
    result = work(db, user, source, mapping, lang="en", progress=progress, mode=args.mode)
    seconds = time.perf_counter() - started
    report = _write_report(args, result.report) if result.report else None
    data = {"loaded": result.loaded, "rejected": result.rejected, "report": report, "rows": result.rows,
            "counts": result.counts, "seconds": round(seconds, 2)}
    if result.outcome is not None:
        data["outcome"] = result.outcome
        data["conflicts"] = _write_conflicts(args, result.conflict_report) if result.conflict_report else None
    emit(args, data, _text(args, result, report, data.get("conflicts")))
    if result.rejected:
        say_error(f"{result.rejected} of {result.rows} rows rejected; nothing loaded; see {report}")
        return 1
    return 0


def _saved_mapping(args):
    """The --mapping file's mapping (refused when it is not one for this kind), or None."""
    return from_json(_read_mapping(args.mapping), args.kind) if args.mapping else None


def _read(args, saved, limit_mb: float):
    """The file; a workbook's sheet is --sheet, else the one the mapping was made on (when the file has sheets);
    rows above the header: --skip-rows, else the mapping's, else found."""
    skip = check_skip_rows(args.skip_rows) if args.skip_rows is not None else (saved.skip_rows if saved else None)
    path = Path(args.file)
    long = not args.json and path.is_file() and path.stat().st_size > READ_PROGRESS_BYTES
    read = partial(read_path, args.file, args.encoding, skip_rows=skip, max_mb=limit_mb,
                   progress=_reading() if long else None)
    if args.sheet is not None or not (saved and saved.sheet):
        return read(sheet=args.sheet)
    try:
        return read(sheet=saved.sheet)
    except InvalidInput as exc:
        if exc.key != "import.sheet_not_excel":
            raise
        return read()


def _mapping(args, saved, source, order: str | None):
    """The saved mapping (values it does not mention proposed), else one proposed from the file; --date-order wins."""
    mapping = with_proposals(saved, source) if saved else propose(args.kind, source)
    mapping.date_order = order or mapping.date_order
    mapping.sheet = source.sheet
    return mapping


def _read_mapping(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput("import.no_such_file", path=path) from None


def _write_report(args, content: bytes) -> str:
    path = Path(args.report) if args.report else Path(args.file).with_name(Path(args.file).name + ".rejects.csv")
    path.write_bytes(content)
    return str(path)


def _write_conflicts(args, content: bytes) -> str:
    path = Path(args.conflicts) if args.conflicts else Path(args.file).with_name(Path(args.file).name
                                                                                  + ".conflicts.csv")
    path.write_bytes(content)
    return str(path)


READ_PROGRESS_BYTES = 32 << 20   # files larger than this say how far their reading has come


def _reading():
    """A CSV or Excel file's reading, on stderr at each tenth."""
    shown = [0]

    def say(fraction: float) -> None:
        tenth = int(fraction * 10)
        if tenth > shown[0]:
            shown[0] = tenth
            print(f"  {tenth * 10:5.1f}%  {t('import.progress.read_file')}", file=sys.stderr)
    return say


def _progress(fraction: float, key: str) -> None:
    print(f"  {fraction * 100:5.1f}%  {t(key)}", file=sys.stderr)


def _text(args, result, report: str | None, conflicts: str | None) -> str:
    if result.rejected:
        first = result.problems.head(5).to_dict("records") if result.problems is not None else []
        lines = [f"  row {p['row']}: {p['field']}: {p['reason']}" for p in first]
        return "\n".join([f"{result.rejected} of {result.rows} rows rejected; report: {report}"] + lines)
    outcome = ""
    if result.outcome is not None:
        outcome = "; " + ", ".join(f"{n:,} {what}" for what, n in result.outcome.items() if what != "rejected")
        if conflicts:
            outcome += f" (left as they are; see {conflicts})"
    if args.dry_run:
        return f"{result.rows} rows checked; none rejected{outcome} (dry run: nothing loaded)"
    written = ", ".join(f"{table} {n:,}" for table, n in result.counts.items())
    return f"{result.loaded:,} rows loaded from {result.file_name}{outcome}: {written}"
