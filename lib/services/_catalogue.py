"""Small rules shared by the admin catalogues (reasons, warehouses, categories): codes, one-line labels, and
moving an entry one place up or down a list kept in `sort_order`.

Error keys are the caller's: `prefix` names its i18n section (e.g. "reasons" → reasons.label_too_long).
"""
import re

from lib.db import rows_as_dicts
from lib.errors import InvalidInput

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Tables whose entries keep a place in a list, and the columns that split them into separate lists.
ORDERED = {"reasons": ("kind",), "categories": ()}


def clean_code(code, pattern: re.Pattern, key: str) -> str:
    """The code without surrounding spaces, or InvalidInput(key) when it does not match `pattern`."""
    code = str(code or "").strip()
    if not pattern.match(code):
        raise InvalidInput(key)
    return code


def clean_label(text, lang: str, limit: int, prefix: str) -> str:
    """One line of text of at most `limit` characters: {prefix}.label_missing_{lang}, .label_too_long or
    .label_one_line otherwise."""
    text = str(text or "").strip()
    if not text:
        raise InvalidInput(f"{prefix}.label_missing_{lang}")
    if len(text) > limit:
        raise InvalidInput(f"{prefix}.label_too_long", n=limit)
    if CONTROL.search(text):
        raise InvalidInput(f"{prefix}.label_one_line")
    return text


def check_step(step, prefix: str) -> int:
    """-1 (up) or +1 (down); anything else is InvalidInput({prefix}.bad_step)."""
    if type(step) is not int or step not in (-1, 1):   # 1.0 or Decimal(1) would equal 1 but cannot index a list
        raise InvalidInput(f"{prefix}.bad_step")
    return step


def move_entry(cur, table: str, code: str, step: int, **scope) -> tuple[list[str], list[str]]:
    """Swap an entry with its neighbour in its list (`scope` picks the list, e.g. kind="void"); return the codes
    before and after. At either end nothing moves and the two lists are equal."""
    where = " AND ".join(["TRUE"] + [f"{column} = ?" for column in ORDERED[table]])   # columns from ORDERED
    params = [scope[column] for column in ORDERED[table]]
    rows = rows_as_dicts(cur, f"SELECT code, sort_order FROM {table} WHERE {where} ORDER BY sort_order, code",
                         params)
    codes = [r["code"] for r in rows]
    at = codes.index(code)
    if not 0 <= at + step < len(codes):
        return codes, codes
    moved = codes[:]
    moved[at], moved[at + step] = moved[at + step], moved[at]
    for c, sort_order in _new_sort_orders(rows, moved).items():
        cur.execute(f"UPDATE {table} SET sort_order = ? WHERE {where} AND code = ?", [sort_order, *params, c])
    return codes, moved


def _new_sort_orders(rows: list[dict], moved: list[str]) -> dict[str, int]:
    """The sort orders that change so the list follows `moved`: the present values handed out in the new order
    when they are all different (a swap touches two rows), else 10, 20, 30 …"""
    old = {r["code"]: r["sort_order"] for r in rows}
    values = [r["sort_order"] for r in rows]           # ascending
    new = dict(zip(moved, values)) if len(set(values)) == len(values) else \
        {c: 10 * (i + 1) for i, c in enumerate(moved)}
    return {c: v for c, v in new.items() if v != old[c]}


def whole_number(value) -> int | None:
    """A whole number from a form or the CLI (an int, a whole float from a number input, or digits), else None.
    Booleans and fractions are not whole numbers."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)           # what a number input gives back
    try:
        return None if isinstance(value, (bool, float)) else int(str(value).strip())
    except ValueError:
        return None
