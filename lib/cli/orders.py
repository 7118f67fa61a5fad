"""Reading orders and stock from the command line (SPEC §3, §11): search, show, stock."""
from lib.cli.common import acting_user, emit, open_db
from lib.domain import User
from lib.queries.orders import get_order, timeline
from lib.queries.search import SearchFilters, search_orders
from lib.queries.stock import stock_levels

SEARCH_KEYS = ("order_no", "status", "payment_status", "customer", "total", "created_at", "rep", "assignee",
               "warehouse")
STOCK_KEYS = ("warehouse", "sku", "on_hand", "reserved", "available", "quarantine")


def register(sub, common, acting) -> None:
    """Register search, show and stock."""
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
    p.add_argument("--main-sku", metavar="SKU", help="the order's main line (largest value, the first on a tie) is"
                   " of this product: an exact SKU, else SKU prefix or product name contains")
    p.add_argument("--main-category", metavar="C", action="append",
                   help="the order's main line is in this category (repeatable)")
    p.add_argument("--sort", metavar="FIELD[:desc]", default="created_at:desc",
                   help="order_no, created_at, total, customer, status, payment_status, rep or warehouse")
    p.add_argument("--limit", metavar="N", default="50")
    p.add_argument("--offset", metavar="N", default="0")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", parents=[common, acting], help="one order with its lines and timeline")
    p.add_argument("order_no")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("stock", parents=[common, acting], help="stock levels per warehouse and SKU")
    p.add_argument("--sku", metavar="SKU", help="SKU prefix or product name")
    p.add_argument("--warehouse", metavar="W", action="append", help="warehouse code (repeatable)")
    p.set_defaults(func=cmd_stock)


def cmd_search(args) -> int:
    db = open_db(args)
    user = acting_user(db, args.user)
    filters = SearchFilters.from_params({
        "number": args.number, "customer": args.customer, "status": args.status, "payment": args.payment,
        "from": args.date_from, "to": args.date_to, "product": args.sku, "category": args.category,
        "rep": args.rep, "assignee": args.assignee, "warehouse": args.warehouse, "source": args.source,
        "min_total": args.min_total, "max_total": args.max_total, "void_reason": args.void_reason,
        "voided_from": args.voided_from, "voided_to": args.voided_to, "return_reason": args.return_reason,
        "returned_from": args.returned_from, "returned_to": args.returned_to,
        "returned_product": args.returned_sku, "returned_category": args.returned_category,
        "main_product": args.main_sku, "main_category": args.main_category})
    result = search_orders(db, user, filters, sort=args.sort, limit=args.limit, offset=args.offset)
    rows = result.rows.astype(object).where(result.rows.notna(), None).to_dict("records")
    orders = [{k: row[k] for k in SEARCH_KEYS} for row in rows]
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
    db = open_db(args)
    # Stock levels are not personal: without --user the command reads as an analyst would.
    user = acting_user(db, args.user, required=False) or User(0, "cli", "cli", "analyst")
    levels = stock_levels(db, user, sku=args.sku, warehouse=args.warehouse)
    rows = [{k: (int(r[k]) if k not in ("warehouse", "sku") else r[k]) for k in STOCK_KEYS}
            for r in levels.to_dict("records")]
    text = "\n".join([f"{'WH':<4}{'SKU':<16}{'ON HAND':>9}{'RESERVED':>10}{'AVAILABLE':>11}{'QUARANTINE':>12}"]
                     + [f"{r['warehouse']:<4}{r['sku']:<16}{r['on_hand']:>9}{r['reserved']:>10}{r['available']:>11}"
                        f"{r['quarantine']:>12}" for r in rows]) if rows else "no stock rows match"
    emit(args, rows, text)
    return 0
