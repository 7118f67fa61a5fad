"""The return commands of `python -m lib.cli` (SPEC §11): return (a return note) and inspect (dispositions)."""
from decimal import Decimal

from lib.cli.common import acting_user, emit, open_db
from lib.errors import InvalidInput
from lib.queries.returns import get_return
from lib.services.returns import create_return, inspect_return


def register(sub, common, acting) -> None:
    """Register `return` and `inspect`."""
    p = sub.add_parser("return", parents=[common, acting], help="create a return note (SPEC §5)")
    p.add_argument("order_no")
    p.add_argument("--line", metavar="SKU:QTY", action="append", required=True, help="a line to return (repeatable)")
    p.add_argument("--reason", metavar="CODE", required=True, help="return reason code")
    p.add_argument("--note", metavar="TEXT")
    p.add_argument("--warehouse", metavar="W", help="receiving warehouse (default: the order's)")
    p.add_argument("--refund", metavar="X", help="refund amount (default: the value of the returned lines)")
    p.set_defaults(func=cmd_return)

    p = sub.add_parser("inspect", parents=[common, acting],
                       help="record a return's inspection and move stock (receives it first if needed)")
    p.add_argument("return_no")
    p.add_argument("--line", metavar="SKU:restock|repair|scrap", action="append", required=True,
                   help="the disposition of a line (repeatable; every line needs one)")
    p.set_defaults(func=cmd_inspect)


def _pairs(values: list[str] | None, form: str) -> list[tuple[str, str]]:
    """--line A:B values as (A, B) pairs; anything else is refused with the expected form."""
    pairs = []
    for value in values or []:
        left, sep, right = (value or "").rpartition(":")
        if not sep or not left.strip() or not right.strip():
            raise InvalidInput("cli.bad_line", value=value, form=form)
        pairs.append((left.strip(), right.strip()))
    return pairs


def cmd_return(args) -> int:
    db = open_db(args)
    user = acting_user(db, args.user)
    result = create_return(db, user, args.order_no, _pairs(args.line, "SKU:QTY"), args.reason, args.note,
                           warehouse=args.warehouse, refund=args.refund)
    data = {"return_no": result["return_no"], "refund": Decimal(result["refund"]),
            "lines": [{**ln, "unit_price": Decimal(ln["unit_price"])} for ln in result["lines"]]}
    lines = "\n".join(f"  {ln['sku']:<14}{ln['qty']:>6} × {ln['unit_price']:>12,.2f}" for ln in data["lines"])
    emit(args, data, f"{result['return_no']} created for {args.order_no}; refund {data['refund']:,.2f}\n{lines}")
    return 0


def cmd_inspect(args) -> int:
    """Record the inspection; a note still `requested` is received first, in the same transaction."""
    db = open_db(args)
    user = acting_user(db, args.user)
    inspect_return(db, user, args.return_no, _pairs(args.line, "SKU:restock|repair|scrap"), receive=True)
    note = get_return(db, user, args.return_no)
    text = "\n".join([f"{note['return_no']}  {note['status']}  order {note['order_no']}  warehouse {note['warehouse']}"]
                     + [f"  {ln['sku']:<14}{ln['qty']:>6}  {ln['disposition']}" for ln in note["lines"]])
    emit(args, note, text)
    return 0
