"""Demo catalogue and customers for `lib.seed`: names, prices and who buys what, as numpy arrays."""
from dataclasses import dataclass

import numpy as np

from lib.seed.data import (CATEGORIES, CITIES, EDITIONS, EN_ADJ, EN_FIRST, EN_LAST, EN_NOUNS, EN_SUFFIXES,
                           MODEL_FROM_PRICE, MODELS, REP_WEIGHTS, WAREHOUSES, ZH_BRANDS_CO, ZH_GIVEN, ZH_SUFFIXES,
                           ZH_SURNAMES, ZH_TRADES)

DAY = 86_400


@dataclass
class Catalog:
    sku: list[str]
    name: list[str]
    cat: np.ndarray          # category index per product (products are grouped by category)
    price: np.ndarray        # list price in cents
    cum_weight: np.ndarray   # cumulative popularity, ends at 1.0
    cat_bounds: np.ndarray   # cumulative popularity at each category's start and end, shape (cats, 2)
    case: np.ndarray         # units per purchase case


@dataclass
class Customers:
    code: list[str]
    name: list[str]
    city: list[str]
    phone: list[str]
    created_s: np.ndarray    # seconds since the epoch
    active_day: np.ndarray   # first horizon day the customer may order (ascending)
    cum_weight: np.ndarray   # cumulative order share, in activation order
    rep: np.ndarray          # index into REPS
    home_wh: np.ndarray      # index into WAREHOUSES
    pay_pref: np.ndarray     # 0 prepaid, 1 pays after ordering, 2 on credit
    pref_cat: np.ndarray     # the category this customer buys most


def _round_price(yuan: np.ndarray) -> np.ndarray:
    """Shop-style prices in cents: 39.90, 299.00, 2999.00."""
    cheap = np.floor(yuan) * 100 + 90
    mid = (np.round(yuan / 10) * 10 - 1) * 100
    dear = (np.round(yuan / 100) * 100 - 1) * 100
    return np.where(yuan < 100, cheap, np.where(yuan < 1000, mid, dear)).astype(np.int64)


def _product_name(rng, item, brands, edition: int) -> str:
    """"Voltek Laptop X5 15.6\" i7" or "星辰蓝牙耳机 Pro"; an edition word tells otherwise equal names apart."""
    name_en, name_zh, _lo, hi, variants = item
    pick = lambda seq: seq[rng.integers(len(seq))]  # noqa: E731
    zh = rng.random() < 0.4 and bool(brands[1])
    model = f" {pick(MODELS)}" if hi >= MODEL_FROM_PRICE else ""
    extra = f" {EDITIONS[(edition - 1) % len(EDITIONS)][int(zh)]}" if edition else ""
    if zh:
        return f"{pick(brands[1])}{name_zh}{model}{extra} {pick(variants)}"
    return f"{pick(brands[0])} {name_en}{model}{extra} {pick(variants)}"


def _book_name(item, zh: bool) -> str:
    return f"《{item[1]}》" if zh else f"{item[0]} ({item[4][0]})"


def build_catalog(rng) -> Catalog:
    """About 400 products over 12 categories with category-typical prices and skewed popularity."""
    skus, names, cats, prices, weights = [], [], [], [], []
    for ci, (_code, prefix, _en, _zh, share, count, brands, items) in enumerate(CATEGORIES):
        seen: set[str] = set()
        is_book = not brands[0]
        count = min(count, 2 * len(items)) if is_book else count
        for i in range(count):
            item = items[(i // 2 if is_book else i) % len(items)]
            if is_book:
                name = _book_name(item, i % 2 == 1)
            else:
                edition = 0
                while (name := _product_name(rng, item, brands, edition)) in seen:
                    edition += 1
            seen.add(name)
            skus.append(f"{prefix}-{i + 1:04d}")
            names.append(name)
            cats.append(ci)
            prices.append(np.exp(rng.uniform(np.log(item[2]), np.log(item[3]))))
        rank = rng.permutation(count) + 1.0
        dear = np.asarray(prices[-count:]) ** -0.3   # cheaper things sell more often
        popularity = rank ** -0.8 * rng.lognormal(0, 0.3, count) * dear
        weights.extend(share * popularity / popularity.sum())
    weights = np.asarray(weights)
    cum = np.cumsum(weights / weights.sum())
    cum[-1] = 1.0
    cat = np.asarray(cats)
    starts = np.searchsorted(cat, np.arange(len(CATEGORIES)))
    ends = np.append(starts[1:], len(cat))
    lower = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    price = _round_price(np.asarray(prices))
    case = np.select([price >= 100_000, price >= 20_000, price >= 5_000], [1, 5, 10], 20)
    return Catalog(skus, names, cat, price, cum, np.column_stack([lower, cum[ends - 1]]), case)


def _customer_name(rng, kind: int, city: int) -> str:
    pick = lambda seq: seq[rng.integers(len(seq))]  # noqa: E731
    if kind == 0:
        return f"{CITIES[city][1]}{pick(ZH_BRANDS_CO)}{pick(ZH_TRADES)}{pick(ZH_SUFFIXES)}"
    if kind == 1:
        return f"{pick(EN_ADJ)} {pick(EN_NOUNS)} {pick(EN_SUFFIXES)}"
    if kind == 2:
        return pick(ZH_SURNAMES) + pick(ZH_GIVEN)
    return f"{pick(EN_FIRST)} {pick(EN_LAST)}"


def build_customers(rng, n: int, start_s: int, days: int) -> Customers:
    """Companies and people, Chinese and English; a core exists from the start, the rest arrive over time."""
    active = np.sort(np.where(rng.random(n) < 0.45, 0, rng.integers(0, days, n)))
    active[: max(10, n // 10)] = 0
    kind = rng.choice(4, n, p=[0.55, 0.2, 0.15, 0.1])
    city_w = np.array([c[4] for c in CITIES], float)
    city = rng.choice(len(CITIES), n, p=city_w / city_w.sum())
    names = [_customer_name(rng, k, c) for k, c in zip(kind.tolist(), city.tolist())]
    digits = rng.integers(10_000_000, 99_999_999, n)
    mobile = rng.choice(["138", "139", "186", "135", "158", "177"], n)
    phone = [f"{CITIES[c][3]}-{d}" if k < 2 else f"{m}{d % 100_000_000:08d}"
             for k, c, d, m in zip(kind.tolist(), city.tolist(), digits.tolist(), mobile.tolist())]
    lead_days = np.where(active == 0, rng.integers(30, 720, n), rng.integers(1, 30, n))
    created = start_s + (active - lead_days) * DAY + rng.integers(9 * 3600, 18 * 3600, n)
    home = np.array([[w[0] for w in WAREHOUSES].index(CITIES[c][2]) for c in range(len(CITIES))])[city]
    shares = np.array([c[4] for c in CATEGORIES])
    return Customers(
        code=[f"CUS-{i + 1:06d}" for i in range(n)], name=names, city=[CITIES[c][0] for c in city.tolist()],
        phone=phone, created_s=created, active_day=active,
        cum_weight=np.cumsum(rng.lognormal(0, 1.1, n)),
        rep=rng.choice(len(REP_WEIGHTS), n, p=REP_WEIGHTS), home_wh=home,
        pay_pref=rng.choice(3, n, p=[0.55, 0.3, 0.15]),
        pref_cat=rng.choice(len(CATEGORIES), n, p=shares / shares.sum()))
