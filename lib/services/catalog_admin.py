"""Warehouses and categories, so a team can run VoidDesk on its own data: add and rename both, re-order categories.

A code never changes once created: stock, orders, products and the ledger refer to it. Names may change. An import
finds a warehouse or category by its code or either name, in any case, so no word may name two of them. Every
change is audited with before and after.
"""
import re
from dataclasses import dataclass

from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User, require
from lib.errors import NotFound, RuleViolation
from lib.queries.category_mask import give_bit
from lib.services import audit
from lib.services._catalogue import check_step, clean_code, clean_label, move_entry

ACTION = "settings.edit"
MAX_NAME = 80


@dataclass(frozen=True)
class Kind:
    table: str
    entity: str              # audit entity type and action prefix; also the i18n word catalog.kind.<entity>
    code_re: re.Pattern
    columns: str


WAREHOUSE = Kind("warehouses", "warehouse", re.compile(r"^[A-Z0-9_]{2,10}$"), "code, name_en, name_zh")
CATEGORY = Kind("categories", "category", re.compile(r"^[a-z0-9_]{2,20}$"), "code, name_en, name_zh, sort_order")


# --- reading -------------------------------------------------------------------------------------------------

def list_warehouses(db: Database, actor: User) -> list[dict]:
    """Every warehouse by code: code, name_en, name_zh, skus (SKUs with stock rows there)."""
    require(actor, ACTION)
    with db.read() as cur:
        return rows_as_dicts(cur, """
            WITH held AS (SELECT warehouse, count(*) AS skus FROM stock_balances GROUP BY warehouse)
            SELECT w.code, w.name_en, w.name_zh, coalesce(h.skus, 0) AS skus
            FROM warehouses w LEFT JOIN held h ON h.warehouse = w.code ORDER BY w.code""")


def list_categories(db: Database, actor: User) -> list[dict]:
    """Every category in list order: code, name_en, name_zh, sort_order, products (how many products have it)."""
    require(actor, ACTION)
    with db.read() as cur:
        return rows_as_dicts(cur, """
            WITH used AS (SELECT category, count(*) AS products FROM products GROUP BY category)
            SELECT c.code, c.name_en, c.name_zh, c.sort_order, coalesce(u.products, 0) AS products
            FROM categories c LEFT JOIN used u ON u.category = c.code ORDER BY c.sort_order, c.code""")


# --- changing ------------------------------------------------------------------------------------------------

def add_warehouse(db: Database, actor: User, code: str, name_en: str, name_zh: str) -> dict:
    """Create a warehouse; its code (2–10 upper-case letters, digits, underscores) is unique and never changes."""
    return _add(db, actor, WAREHOUSE, code, name_en, name_zh)


def add_category(db: Database, actor: User, code: str, name_en: str, name_zh: str) -> dict:
    """Create a category at the end of the list; its code (2–20 lower-case letters, digits, underscores) is unique
    and never changes."""
    return _add(db, actor, CATEGORY, code, name_en, name_zh)


def rename_warehouse(db: Database, actor: User, code: str, name_en: str, name_zh: str) -> dict:
    """Change a warehouse's names (never its code); return it as it now reads."""
    return _rename(db, actor, WAREHOUSE, code, name_en, name_zh)


def rename_category(db: Database, actor: User, code: str, name_en: str, name_zh: str) -> dict:
    """Change a category's names (never its code); return it as it now reads."""
    return _rename(db, actor, CATEGORY, code, name_en, name_zh)


def move_category(db: Database, actor: User, code: str, step: int) -> list[str]:
    """Move a category one place up (step -1) or down (+1); return the codes in their new order."""
    require(actor, ACTION)
    check_step(step, "catalog")
    with db.transaction() as cur:
        current = _get(cur, CATEGORY, code)
        codes, moved = move_entry(cur, "categories", current["code"], step)
        if moved != codes:       # already first (or last): nothing moved, nothing to audit
            audit.record(cur, actor, "category.move", "category", current["code"],
                         before={"order": codes}, after={"order": moved})
    return moved


def _add(db: Database, actor: User, kind: Kind, code: str, name_en: str, name_zh: str) -> dict:
    require(actor, ACTION)
    code = clean_code(code, kind.code_re, f"catalog.bad_code_{kind.entity}")
    names = _clean_names(name_en, name_zh)
    with db.transaction() as cur:
        if scalar(cur, f"SELECT count(*) FROM {kind.table} WHERE lower(code) = lower(?)", [code]):
            raise RuleViolation("catalog.code_exists", code=code, kind=f"catalog.kind.{kind.entity}")
        _refuse_taken_words(cur, kind, code, [code, *names.values()])
        if kind is CATEGORY:
            sort_order = scalar(cur, "SELECT coalesce(max(sort_order), 0) + 10 FROM categories")
            cur.execute("INSERT INTO categories (code, name_en, name_zh, sort_order) VALUES (?, ?, ?, ?)",
                        [code, names["name_en"], names["name_zh"], sort_order])
            give_bit(cur, code)
        else:
            cur.execute("INSERT INTO warehouses (code, name_en, name_zh) VALUES (?, ?, ?)",
                        [code, names["name_en"], names["name_zh"]])
        entry = _get(cur, kind, code)
        audit.record(cur, actor, f"{kind.entity}.create", kind.entity, code, after=entry)
    return entry


def _rename(db: Database, actor: User, kind: Kind, code: str, name_en: str, name_zh: str) -> dict:
    """A save that changes nothing writes nothing."""
    require(actor, ACTION)
    names = _clean_names(name_en, name_zh)
    with db.transaction() as cur:
        current = _get(cur, kind, code)
        changed = {k: v for k, v in names.items() if v != current[k]}
        if not changed:
            return current
        _refuse_taken_words(cur, kind, current["code"], list(changed.values()))
        assignments = ", ".join(f"{column} = ?" for column in changed)      # columns: name_en, name_zh only
        cur.execute(f"UPDATE {kind.table} SET {assignments} WHERE code = ?", [*changed.values(), current["code"]])
        audit.record(cur, actor, f"{kind.entity}.rename", kind.entity, current["code"],
                     before={k: current[k] for k in changed}, after=changed)
    return {**current, **changed}


def _get(cur, kind: Kind, code) -> dict:
    code = str(code or "").strip()
    rows = rows_as_dicts(cur, f"SELECT {kind.columns} FROM {kind.table} WHERE code = ?", [code])
    if not rows:
        raise NotFound("catalog.not_found", code=code or "—", kind=f"catalog.kind.{kind.entity}")
    return rows[0]


def _refuse_taken_words(cur, kind: Kind, code: str, words: list[str]) -> None:
    """An import names an entry by its code or either name, in any case: each word may name one entry only."""
    for word in words:
        other = scalar(cur, f"SELECT min(code) FROM {kind.table} WHERE code <> ? AND lower(?) IN"
                            " (lower(code), lower(name_en), lower(name_zh))", [code, word])
        if other is not None:
            raise RuleViolation("catalog.word_taken", word=word, other=other, kind=f"catalog.kind.{kind.entity}")


def _clean_names(name_en, name_zh) -> dict:
    return {"name_en": clean_label(name_en, "en", MAX_NAME, "catalog"),
            "name_zh": clean_label(name_zh, "zh", MAX_NAME, "catalog")}
