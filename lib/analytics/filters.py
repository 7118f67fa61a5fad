"""Analytics filters (SPEC §8): period, basis, reason names and narrowing codes; URL round-trip; drill-down to Search.

Filters hold codes (reason codes, category codes, warehouse codes, usernames), never labels, so a shared
link means the same in both languages. Dates are inclusive days.

With `labels` "recorded" the dashboards group a reason by the labels each record was made with (issue #7): the
group key is the code, REASON_KEY_SEP and a hash of the labels. Such keys live only in results; drill-downs and
filters take the code (`reason_code_of`).
"""
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta

from lib.errors import InvalidInput
from lib.queries.search_filters import MAX_TEXT, MAX_VALUES, _dedupe, _many, _one, _raw, parse_date

GRAINS = ("day", "week", "month")
DIMENSIONS = ("category", "sku", "rep", "customer", "warehouse")
BASES = ("event", "order")        # event: the void's applied / return note's created date; order: order created
LABELS = ("current", "recorded")  # reason names from the catalogue now, or as each record carried them
REASON_KEY_SEP = "~"              # reason codes are [a-z0-9_]: the separator cannot occur in one
DEFAULT_DAYS = 90
MAX_DAYS = 3653                   # about ten years

# dataclass field -> URL query parameter
PARAM_NAMES = {"date_from": "from", "date_to": "to", "basis": "basis", "reasons": "reason",
               "categories": "category", "warehouses": "warehouse", "reps": "rep", "labels": "labels"}
_LISTS = ("reasons", "categories", "warehouses", "reps")
KINDS = ("void", "return", "order")   # orders with a void / a return note in the period, or created in it
NARROW = ("category", "sku", "rep", "customer", "warehouse", "reason", "status", "payment", "source",
          "period_start", "period_end", "main_category", "main_sku")


@dataclass(frozen=True)
class AnalyticsFilters:
    date_from: date
    date_to: date                      # inclusive
    basis: str = "event"
    reasons: tuple[str, ...] = ()      # reason codes
    categories: tuple[str, ...] = ()   # category codes; an order matches when it has a line in one
    warehouses: tuple[str, ...] = ()   # warehouse codes (the order's warehouse)
    reps: tuple[str, ...] = ()         # usernames of the order's sales rep
    labels: str = "current"            # reason names: "current" (catalogue) or "recorded" (as each record had them)

    @classmethod
    def default(cls, today: date) -> "AnalyticsFilters":
        """The last 90 days ending today."""
        return cls(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> "AnalyticsFilters":
        """The same filters over the equal-length period just before."""
        end = self.date_from - timedelta(days=1)
        return replace(self, date_from=end - timedelta(days=self.days - 1), date_to=end)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) timestamps of the period."""
        return (datetime.combine(self.date_from, time.min),
                datetime.combine(self.date_to + timedelta(days=1), time.min))

    def cleaned(self) -> "AnalyticsFilters":
        """A validated copy (lists deduplicated, usernames lower-cased); raises InvalidInput."""
        f = replace(self, date_from=parse_date(self.date_from, "from"), date_to=parse_date(self.date_to, "to"),
                    basis=str(self.basis or "event").strip().lower(),
                    labels=str(self.labels or "current").strip().lower(),
                    **{n: tuple(_dedupe(getattr(self, n))) for n in _LISTS})
        f = replace(f, reps=tuple(dict.fromkeys(r.lower() for r in f.reps)))
        f._check()
        return f

    def _check(self) -> None:
        if self.date_from is None or self.date_to is None:
            raise InvalidInput("analytics.period_required")
        if self.date_from > self.date_to:
            raise InvalidInput("search.bad_date_range", date_from=self.date_from.isoformat(),
                               date_to=self.date_to.isoformat())
        if self.days > MAX_DAYS:
            raise InvalidInput("analytics.period_too_long", n=MAX_DAYS // 365)
        if self.basis not in BASES:
            raise InvalidInput("analytics.bad_basis", value=self.basis[:40], allowed=", ".join(BASES))
        if self.labels not in LABELS:
            raise InvalidInput("analytics.bad_labels", value=self.labels[:40], allowed=", ".join(LABELS))
        for name in _LISTS:
            values = getattr(self, name)
            if len(values) > MAX_VALUES:
                raise InvalidInput("search.too_many_values", field=PARAM_NAMES[name], n=MAX_VALUES)
            if any(len(v) > MAX_TEXT for v in values):
                raise InvalidInput("search.text_too_long", field=PARAM_NAMES[name], n=MAX_TEXT)

    def to_params(self) -> dict[str, str | list[str]]:
        """The filters as URL query parameters (lists stay lists; empty lists and current labels are left out)."""
        params: dict[str, str | list[str]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "labels" and value == "current":
                continue
            if f.name in _LISTS:
                if value:
                    params[PARAM_NAMES[f.name]] = list(value)
            else:
                params[PARAM_NAMES[f.name]] = value.isoformat() if isinstance(value, date) else str(value)
        return params

    @classmethod
    def from_params(cls, params, today: date) -> "AnalyticsFilters":
        """Filters from URL query parameters; a missing period is the default 90 days ending today."""
        start = parse_date(_one(_raw(params, "from", False)), "from")
        end = parse_date(_one(_raw(params, "to", False)), "to")
        if end is None:
            end = today if start is None or start <= today else start + timedelta(days=DEFAULT_DAYS - 1)
        if start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        lists = {n: tuple(_many(_raw(params, PARAM_NAMES[n], True))) for n in _LISTS}
        basis = _one(_raw(params, "basis", False)) or "event"
        labels = _one(_raw(params, "labels", False)) or "current"
        return cls(date_from=start, date_to=end, basis=basis, labels=labels, **lists).cleaned()

    def search_params(self, kind: str = "void", **narrow) -> dict[str, str | list[str]]:
        """URL params of the Search page listing the orders behind a number (a bar, a cell, a KPI).

        `narrow` may set category, sku, rep (username), customer (code), warehouse, status, payment, source,
        reason (a code, or an "as recorded" key: Search takes its code), main_category / main_sku (the order's main
        line is in it / of it: how Explain counts, lib.queries.main_line), and period_start / period_end (a clicked
        bar's period, clipped to the filter period). Kind "order" lists the orders created in the period.
        """
        if kind not in KINDS:
            raise InvalidInput("analytics.bad_kind", value=str(kind)[:40], allowed=", ".join(KINDS))
        unknown = set(narrow) - set(NARROW)
        if unknown:
            raise InvalidInput("analytics.bad_narrow", value=", ".join(sorted(unknown)), allowed=", ".join(NARROW))
        start, end = _clip(self, narrow.get("period_start"), narrow.get("period_end"))
        prefix = "voided" if kind == "void" else "returned"
        params: dict[str, str | list[str]] = {}
        if kind == "order":
            params["from"], params["to"] = start.isoformat(), end.isoformat()
        elif self.basis == "event":
            params[f"{prefix}_from"], params[f"{prefix}_to"] = start.isoformat(), end.isoformat()
        else:
            params["from"], params["to"] = start.isoformat(), end.isoformat()
            # A void or return comes after its order, so this only says "has one" (any date).
            params[f"{prefix}_from"] = start.isoformat()
        reason = narrow.get("reason")
        if kind != "order":
            _put_list(params, f"{kind}_reason", reason_code_of(str(reason)) if reason else None, self.reasons)
        # The category filter asks for orders with a line in one of the categories (as the dashboards count); a
        # clicked return category or SKU is what the note returned.
        if kind == "return" and narrow.get("category"):
            params["returned_category"] = [str(narrow["category"])]
            _put_list(params, "category", None, self.categories)
        else:
            _put_list(params, "category", narrow.get("category"), self.categories)
        _put_list(params, "warehouse", narrow.get("warehouse"), self.warehouses)
        _put_list(params, "rep", narrow.get("rep"), self.reps)
        for name in ("status", "payment", "source"):
            _put_list(params, name, narrow.get(name), ())
        if narrow.get("sku"):
            params["returned_product" if kind == "return" else "product"] = str(narrow["sku"])
        if narrow.get("customer"):
            params["customer"] = str(narrow["customer"])
        if narrow.get("main_sku"):
            params["main_product"] = str(narrow["main_sku"])
        _put_list(params, "main_category", narrow.get("main_category"), ())
        return params


def period_end(start: date, grain: str) -> date:
    """The last day of the day / week / month that starts on `start`."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    first_next = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def reason_code_of(key: str) -> str:
    """The reason code of a group key (a code is its own key)."""
    return key.split(REASON_KEY_SEP, 1)[0]


def _clip(f: AnalyticsFilters, start, end) -> tuple[date, date]:
    """The clicked period within the filter period (the whole period when none was clicked)."""
    start = parse_date(start, "period_start") or f.date_from
    end = parse_date(end, "period_end") or f.date_to
    return max(start, f.date_from), min(end, f.date_to)


def _put_list(params: dict, name: str, one, default: tuple) -> None:
    values = [str(one)] if one not in (None, "") else list(default)
    if values:
        params[name] = values


def check_grain(grain: str) -> str:
    """The grain if known, else InvalidInput."""
    if grain not in GRAINS:
        raise InvalidInput("analytics.bad_grain", value=str(grain)[:40], allowed=", ".join(GRAINS))
    return grain


def check_dimension(dimension: str) -> str:
    """The dimension if known, else InvalidInput."""
    if dimension not in DIMENSIONS:
        raise InvalidInput("analytics.bad_dimension", value=str(dimension)[:40], allowed=", ".join(DIMENSIONS))
    return dimension
