"""The void commands of `python -m lib.cli` (SPEC §11): void (one order or a batch, --dry-run), approve, reject,
restore. Same services and rules as the web app; a refusal exits 1 with one line on stderr; a batch that applied
some orders and refused others exits 3 (lib.cli.common.EXIT_PARTIAL)."""
from decimal import Decimal

from lib.cli.common import acting_user, emit, open_db, refused_exit
from lib.errors import VoidDeskError
from lib.i18n import fmt_money
from lib.queries.voids import preview_batch
from lib.services import voids
from lib.void_checks import describe

VOID_KEYS = ("order_no", "outcome", "message", "refund", "released")
WORDS = {"voided": "voided", "pending_approval": "waiting for approval", "refused": "refused"}


def register(sub, common, acting) -> None:
    """Register void, approve, reject and restore."""
    p = sub.add_parser("void", parents=[common, acting], help="void one order, or several as one batch (SPEC §4)")
    p.add_argument("order_no", nargs="+", metavar="ORDER_NO")
    p.add_argument("--reason", metavar="CODE", help="void reason code, e.g. customer_cancelled")
    p.add_argument("--note", metavar="TEXT")
    p.add_argument("--dry-run", action="store_true", help="show what would happen; change nothing")
    p.set_defaults(func=cmd_void)
    p = sub.add_parser("approve", parents=[common, acting],
                       help="approve the pending void request of one order, or of several in one go")
    p.add_argument("order_no", nargs="+", metavar="ORDER_NO")
    p.add_argument("--note", metavar="TEXT", help="decision note (optional)")
    p.set_defaults(func=cmd_approve)
    p = sub.add_parser("reject", parents=[common, acting],
                       help="reject the pending void request of one order, or of several in one go")
    p.add_argument("order_no", nargs="+", metavar="ORDER_NO")
    p.add_argument("--note", metavar="TEXT", help="why (required)")
    p.set_defaults(func=cmd_reject)
    p = sub.add_parser("restore", parents=[common, acting], help="undo a void within the restore window")
    p.add_argument("order_no", metavar="ORDER_NO")
    p.add_argument("--note", metavar="TEXT", help="why (required)")
    p.set_defaults(func=cmd_restore)


def _session(args):
    db = open_db(args)
    return db, acting_user(db, args.user)


def cmd_void(args) -> int:
    db, user = _session(args)
    numbers = args.order_no
    if args.dry_run:
        rows = [_dry_run_row(p) for p in preview_batch(db, user, numbers, args.reason or "")]
    elif len(numbers) == 1:
        rows = [_void_one(db, user, numbers[0], args)]
    else:
        rows = voids.void_batch(db, user, numbers, args.reason, args.note)["results"]
    shown = [{k: r[k] for k in VOID_KEYS} for r in rows]
    emit(args, shown, "\n".join([f"{r['order_no']:<20}{WORDS[r['outcome']]:<22}{r['message']}" for r in rows]
                                 + ([_summary(rows)] if len(rows) > 1 else [])))
    return refused_exit(rows, dry_run=args.dry_run)


def _void_one(db, user, order_no: str, args) -> dict:
    try:
        return voids.void_order(db, user, order_no, args.reason, args.note)
    except VoidDeskError as exc:
        return {"order_no": order_no, "outcome": "refused", "message": exc.message("en"), "refund": "0.00",
                "released": []}


def _dry_run_row(p: dict) -> dict:
    released = [{k: r[k] for k in ("warehouse", "sku", "qty")} for r in p["release"]]
    units = sum(r["qty"] for r in released)
    if p["outcome_if_confirmed"] == "refused":
        message = p["refusal_message"]
    elif p["outcome_if_confirmed"] == "pending_approval":
        message = describe("voids.preview.pending", {"order_no": p["order_no"],
                                                     "why": f"approval_reason.{p['approval_reason']}"})
    else:
        message = describe("voids.preview.voided", {"order_no": p["order_no"], "units": units,
                                                    "refund": fmt_money(p["refund"])})
    applies = p["outcome_if_confirmed"] == "voided"
    return {"order_no": p["order_no"], "outcome": p["outcome_if_confirmed"], "message": message,
            "refund": f"{Decimal(str(p['refund'] if applies else 0)):.2f}", "released": released if applies else []}


def _summary(rows: list[dict]) -> str:
    counts = {k: sum(r["outcome"] == k for r in rows) for k in WORDS}
    return ", ".join(f"{n} {WORDS[k]}" for k, n in counts.items())


def cmd_approve(args) -> int:
    return _decide(args, "approve")


def cmd_reject(args) -> int:
    return _decide(args, "reject")


DECIDED = {"voided": "approved, voided", "rejected": "rejected", "refused": "refused"}


def _decide(args, decision: str) -> int:
    """One order: its decision or a one-line refusal. Several: one transaction, a line per order, and exit 3
    when some were refused and the others decided (1 when all were refused)."""
    db, user = _session(args)
    if len(args.order_no) == 1:
        decide = voids.approve if decision == "approve" else voids.reject
        result = decide(db, user, args.order_no[0], args.note)
        emit(args, _decision_row(result), result["message"])
        return 0
    rows = voids.decide_many(db, user, args.order_no, decision, args.note)["results"]
    counts = {k: sum(r["outcome"] == k for r in rows) for k in DECIDED}
    emit(args, [_decision_row(r) for r in rows],
          "\n".join([f"{r['order_no']:<20}{DECIDED[r['outcome']]:<22}{r['message']}" for r in rows]
                    + [", ".join(f"{n} {DECIDED[k]}" for k, n in counts.items() if n)]))
    return refused_exit(rows)


def _decision_row(result: dict) -> dict:
    keys = ("order_no", "decision", *VOID_KEYS[1:]) if result["outcome"] == "voided" else (
        "order_no", "decision", "outcome", "message")
    return {k: result.get(k) for k in keys}


def cmd_restore(args) -> int:
    db, user = _session(args)
    result = voids.restore(db, user, args.order_no, args.note)
    keys = ("order_no", "outcome", "status", "message", "reserved", "refund_cancelled")
    emit(args, {k: result[k] for k in keys}, result["message"])
    return 0
