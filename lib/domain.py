"""Statuses, roles, the one permission check every service calls and who sees which order (SPEC §1, §2)."""
from dataclasses import dataclass
from decimal import Decimal

from lib.errors import PermissionDenied

ROLES = ("sales", "ops", "ops_lead", "finance", "warehouse", "analyst", "admin")

ORDER_STATUSES = ("pending", "processing", "shipped", "completed", "voided", "archived")
OPEN_STATUSES = ("pending", "processing")
PAYMENT_STATUSES = ("unpaid", "paid", "partially_refunded", "refunded")
ORDER_SOURCES = ("app", "import", "demo")   # entered in the app, imported, demo data
VOIDABLE_STATUSES = ("pending", "processing")
RETURNABLE_STATUSES = ("shipped", "completed")

_OPS = ("ops", "ops_lead", "admin")
_LEADS = ("ops_lead", "admin")
_ALL = ROLES

# action -> roles allowed to perform it. The service layer calls require() for every action.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "order.view": _ALL,
    "order.view_all": ("ops", "ops_lead", "finance", "warehouse", "analyst", "admin"),
    "order.create": ("sales",) + _OPS,
    "order.change_status": _OPS,
    "order.assign": _OPS,
    "order.comment": ("sales", "ops", "ops_lead", "finance", "warehouse", "admin"),
    "order.archive": _OPS,
    "void.create": _OPS,
    "void.request": ("sales",) + _OPS,
    "void.approve": _LEADS,
    "void.restore": _LEADS,
    "return.create": _OPS,
    "return.inspect": ("warehouse", "ops_lead", "admin"),
    "refund.view": ("finance", "ops_lead", "admin"),
    "refund.pay": ("finance", "admin"),
    "stock.view": ("ops", "ops_lead", "finance", "warehouse", "analyst", "admin"),
    "stock.adjust": _LEADS,
    "analytics.view": ("analyst", "ops_lead", "admin"),
    "sql.console": ("analyst", "admin"),
    "reasons.edit": _LEADS,
    "settings.edit": _LEADS,
    "audit.view": _LEADS,
    "users.manage": ("admin",),
    "import.run": _LEADS,
    "chat.manage": ("admin",),     # team-chat channels: their webhook keys are secrets (issue #17)
}


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    language: str | None = None
    must_change_password: bool = False

    @property
    def is_sales(self) -> bool:
        return self.role == "sales"


def can(user: User | None, action: str) -> bool:
    """True when the user's role allows the action."""
    if user is None:
        return False
    return user.role in PERMISSIONS[action]


def refusal(user: User | None, action: str) -> PermissionDenied | None:
    """The PermissionDenied (naming who may do it) a user would get for the action, or None."""
    if can(user, action):
        return None
    return PermissionDenied("error.permission", action=f"action.{action}", roles=PERMISSIONS[action],
                            role=user.role if user else None)


def require(user: User | None, action: str) -> None:
    """Raise PermissionDenied unless the user's role allows the action."""
    exc = refusal(user, action)
    if exc is not None:
        raise exc


_EVERY_REP = object()


def _whose_orders(user: User | None):
    """SPEC §1, the one definition of who sees which order: a sales rep sees only their own orders (the user's id);
    other roles with the order-read permission see all (_EVERY_REP); without it, none (None)."""
    if can(user, "order.view_all"):
        return _EVERY_REP
    return user.id if can(user, "order.view") else None


def may_see_order(user: User | None, rep_id: int | None) -> bool:
    """Whether the user may see an order whose sales rep is rep_id."""
    whose = _whose_orders(user)
    return whose is _EVERY_REP or (whose is not None and rep_id == whose)


def order_visibility_sql(user: User | None, alias: str = "o") -> tuple[str, list]:
    """The orders the user may see as a SQL condition on `orders` (called alias; "" for none) and its parameters."""
    whose = _whose_orders(user)
    if whose is _EVERY_REP:
        return "TRUE", []
    if whose is None:
        return "FALSE", []
    return f"{alias + '.' if alias else ''}rep_id = ?", [whose]


@dataclass(frozen=True)
class Rules:
    """The rules an operations lead can change (SPEC §9), as in force."""
    approval_threshold: Decimal
    restore_window_hours: int
    low_stock_level: int
    sales_may_request_voids: bool
    import_max_mb: int = 1024     # the largest import file, in megabytes (lib.imports.sniff.check_size)


def available(on_hand: int, reserved: int) -> int:
    return on_hand - reserved


def payment_status_for(amount_paid, amount_refunded) -> str:
    """unpaid / paid / partially_refunded / refunded from money paid in and refunds paid out."""
    if not amount_paid or amount_paid <= 0:
        return "unpaid"
    if amount_refunded >= amount_paid:
        return "refunded"
    if amount_refunded > 0:
        return "partially_refunded"
    return "paid"
