"""Search filters (SPEC §3): what can be asked, validated, and round-tripped through URL parameters.

The filters hold codes (statuses, reason codes, usernames), never labels, so a shared link means the same in
both languages. lib.queries.search turns them into SQL.
"""
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lib.domain import ORDER_SOURCES, ORDER_STATUSES, PAYMENT_STATUSES
from lib.errors import InvalidInput

MAX_TEXT = 100          # characters in one text filter
MAX_VALUES = 200        # values in one multi-value filter
MAX_LIMIT = 1000        # rows in one page
# Days outside these cannot be searched: the day after 9999-12-31 (an inclusive end) or a period before 0001-01-01
# does not exist, and no order is that old or that far ahead.
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2999, 12, 31)
MAX_AMOUNT = Decimal("1000000000000")  # DECIMAL(14,2) holds less; larger input is a typo

# dataclass field -> URL query parameter
PARAM_NAMES = {
    "number": "number", "customer": "customer", "date_from": "from", "date_to": "to",
    "statuses": "status", "payment": "payment", "product": "product", "category": "category",
    "rep": "rep", "assignee": "assignee", "warehouse": "warehouse",
    "source": "source", "min_total": "min_total", "max_total": "max_total",
    "void_reason": "void_reason", "voided_from": "voided_from", "voided_to": "voided_to",
    "return_reason": "return_reason", "returned_from": "returned_from", "returned_to": "returned_to",
    "returned_product": "returned_product", "returned_category": "returned_category",
    "main_product": "main_product", "main_category": "main_category",
}
_TEXT = ("number", "customer", "product", "returned_product", "main_product")
_LISTS = ("statuses", "payment", "category", "rep", "assignee", "warehouse", "source", "void_reason", "return_reason",
          "returned_category", "main_category")
_DATES = ("date_from", "date_to", "voided_from", "voided_to", "returned_from", "returned_to")
# (from, to) pairs that must not be reversed
_RANGES = (("date_from", "date_to"), ("voided_from", "voided_to"), ("returned_from", "returned_to"))


@dataclass
class SearchFilters:
    number: str = ""                 # exact order number, else prefix
    customer: str = ""               # customer name contains, or the customer's code; any case
    date_from: date | None = None    # created on or after
    date_to: date | None = None      # created on or before (inclusive)
    statuses: list[str] = field(default_factory=list)
    payment: list[str] = field(default_factory=list)
    product: str = ""                # an exact SKU, else SKU prefix or product name contains
    category: list[str] = field(default_factory=list)
    rep: list[str] = field(default_factory=list)        # usernames
    assignee: list[str] = field(default_factory=list)   # usernames
    warehouse: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)     # app | import | demo
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    # History (the analytics drill-down lands here): orders with a void in effect (status applied) of these
    # reasons / applied in these days, and orders with a return note of these reasons / created in these days.
    void_reason: list[str] = field(default_factory=list)
    voided_from: date | None = None
    voided_to: date | None = None
    return_reason: list[str] = field(default_factory=list)
    returned_from: date | None = None
    returned_to: date | None = None
    returned_product: str = ""       # a return note with a line of this SKU (exact, any case)
    returned_category: list[str] = field(default_factory=list)   # … with a line in one of these categories
    # The order's main line (lib.queries.main_line) is of this product (matched as `product` is) / in one of these
    # categories: the orders Explain counts under a product or category (its drill-down lands here).
    main_product: str = ""
    main_category: list[str] = field(default_factory=list)

    @property
    def void_history(self) -> bool:
        return bool(self.void_reason or self.voided_from or self.voided_to)

    @property
    def return_history(self) -> bool:
        return bool(self.return_reason or self.returned_from or self.returned_to or self.returned_product
                    or self.returned_category)

    def to_params(self) -> dict[str, str | list[str]]:
        """Non-empty filters as URL query parameters (lists stay lists)."""
        params = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, "", []):
                continue
            name = PARAM_NAMES[f.name]
            params[name] = list(value) if f.name in _LISTS else (
                value.isoformat() if isinstance(value, date) else str(value))
        return params

    @classmethod
    def from_params(cls, params) -> "SearchFilters":
        """Filters from URL query parameters (str or list of str each); bad values raise InvalidInput."""
        values = {}
        for name, param in PARAM_NAMES.items():
            raw = _raw(params, param, many=name in _LISTS)
            if name in _LISTS:
                values[name] = _many(raw)
            elif name in _TEXT:
                values[name] = _one(raw)
            elif name in _DATES:
                values[name] = parse_date(_one(raw), param)
            else:
                values[name] = parse_amount(_one(raw), param)
        return cls(**values).cleaned()

    def cleaned(self) -> "SearchFilters":
        """A validated copy with text trimmed and usernames lower-cased; raises InvalidInput."""
        f = replace(self, **{n: str(getattr(self, n) or "").strip() for n in _TEXT},
                    **{n: _dedupe(getattr(self, n)) for n in _LISTS})
        for name in ("statuses", "payment", "source", "rep", "assignee"):
            setattr(f, name, [v.lower() for v in getattr(f, name)])
        for name in _DATES:
            setattr(f, name, parse_date(getattr(f, name), PARAM_NAMES[name]))
        f.min_total = parse_amount(f.min_total, "min_total")
        f.max_total = parse_amount(f.max_total, "max_total")
        f._check()
        return f

    def _check(self) -> None:
        for name in _TEXT:
            if len(getattr(self, name)) > MAX_TEXT:
                raise InvalidInput("search.text_too_long", field=PARAM_NAMES[name], n=MAX_TEXT)
        for name in _LISTS:
            if len(getattr(self, name)) > MAX_VALUES:
                raise InvalidInput("search.too_many_values", field=PARAM_NAMES[name], n=MAX_VALUES)
        _check_codes(self.statuses, ORDER_STATUSES, "search.unknown_status")
        _check_codes(self.payment, PAYMENT_STATUSES, "search.unknown_payment")
        _check_codes(self.source, ORDER_SOURCES, "search.unknown_source")
        for low, high in _RANGES:
            start, end = getattr(self, low), getattr(self, high)
            if start and end and start > end:
                raise InvalidInput("search.bad_date_range", date_from=start.isoformat(), date_to=end.isoformat())
        if self.min_total is not None and self.max_total is not None and self.min_total > self.max_total:
            raise InvalidInput("search.bad_amount_range", min=str(self.min_total), max=str(self.max_total))


def _raw(params, name: str, many: bool):
    """One parameter from a dict, or from st.query_params (whose .get gives only the last of repeats)."""
    if many and hasattr(params, "get_all"):
        return params.get_all(name)
    return params.get(name) if hasattr(params, "get") else None


def _one(raw) -> str:
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else ""
    return "" if raw is None else str(raw)


def _many(raw) -> list[str]:
    """A list from repeated params and/or comma-separated values."""
    if raw is None:
        return []
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return [part for item in items for part in str(item).split(",")]


def _dedupe(values) -> list[str]:
    if isinstance(values, str):
        values = [values]
    cleaned = (str(v).strip() for v in values or [])
    return list(dict.fromkeys(v for v in cleaned if v))


def _check_codes(values: list[str], allowed: tuple[str, ...], key: str) -> None:
    for value in values:
        if value not in allowed:
            raise InvalidInput(key, value=value, allowed=", ".join(allowed))


def parse_date(value, param: str = "date") -> date | None:
    """A date from a date or an ISO 'YYYY-MM-DD' string, from MIN_DATE to MAX_DATE; empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput("search.bad_date", field=param, value=str(value)[:40]) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise InvalidInput("search.date_out_of_range", field=param, value=day.isoformat(), low=MIN_DATE.year,
                           high=MAX_DATE.year)
    return day


def parse_amount(value, param: str = "amount") -> Decimal | None:
    """A finite amount from a number or text ('1,200.50' allowed); empty is None."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput("search.bad_amount", field=param, value=str(value)[:40]) from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise InvalidInput("search.bad_amount", field=param, value=str(value)[:40])
    return amount
