"""Warehouses and categories admin (lib.services.catalog_admin) on a real DuckDB file: rules, audit, refusals, and a
team starting from an empty database (init-db only) through to imported products and stock."""
import json

import pytest

from lib.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from lib.imports import propose, read_bytes, run_import
from lib.queries.check import run_checks
from lib.services import catalog_admin as ca
from tests.conftest import add_user, balance
from tests.integration.import_samples import orders_csv

OTHER_ROLES = ["ops", "sales", "analyst", "finance", "warehouse"]


def _rows(db, sql, params=None):
    with db.read() as cur:
        return cur.execute(sql, params or []).fetchall()


def _audits(db):
    return [{"action": a, "entity": (t, e), "before": json.loads(b) if b else None, "after": json.loads(f)}
            for a, t, e, b, f in _rows(db, "SELECT action, entity_type, entity_id, before, after FROM audit_log"
                                           " WHERE entity_type IN ('warehouse', 'category') ORDER BY id")]


def _snapshot(db):
    """Everything these services may write: both tables and their audit entries."""
    return (_rows(db, "SELECT * FROM warehouses ORDER BY code"), _rows(db, "SELECT * FROM categories ORDER BY code"),
            _audits(db))


def _category_codes(db):
    return [r[0] for r in _rows(db, "SELECT code FROM categories ORDER BY sort_order, code")]


# --- adding -----------------------------------------------------------------------------------------------

def test_added_warehouse_is_listed_and_audited(shop):
    wh = ca.add_warehouse(shop.db, shop.users["ops_lead"], " BJ_2 ", "Beijing North", "北京北仓")
    assert wh == {"code": "BJ_2", "name_en": "Beijing North", "name_zh": "北京北仓"}
    listed = ca.list_warehouses(shop.db, shop.users["admin"])
    assert [(w["code"], w["skus"]) for w in listed] == [("BJ_2", 0), ("GZ", 1), ("SH", 3)]
    assert _audits(shop.db) == [{"action": "warehouse.create", "entity": ("warehouse", "BJ_2"), "before": None,
                                 "after": wh}]


def test_added_category_goes_to_the_end_of_the_list_and_is_audited(shop):
    cat = ca.add_category(shop.db, shop.users["admin"], "home_garden", "Home & garden", "家居园艺")
    assert cat == {"code": "home_garden", "name_en": "Home & garden", "name_zh": "家居园艺", "sort_order": 12}
    listed = ca.list_categories(shop.db, shop.users["ops_lead"])
    assert [(c["code"], c["products"]) for c in listed] == [("phones", 2), ("toys", 2), ("home_garden", 0)]
    [entry] = _audits(shop.db)
    assert (entry["action"], entry["entity"], entry["after"]["sort_order"]) == ("category.create",
                                                                                ("category", "home_garden"), 12)


@pytest.mark.parametrize("code", ["", " ", "S", "sh", "Sh", "ABCDEFGHIJK", "S-H", "S H", "上海", "SH;--"])
def test_bad_warehouse_codes_are_refused_and_change_nothing(shop, code):
    before = _snapshot(shop.db)
    with pytest.raises(InvalidInput) as info:
        ca.add_warehouse(shop.db, shop.users["ops_lead"], code, "Name", "名称")
    assert "upper-case letters, digits and underscores" in info.value.message("en")
    assert "大写字母" in info.value.message("zh")
    assert _snapshot(shop.db) == before


@pytest.mark.parametrize("code", ["", "p", "Phones", "x" * 21, "home garden", "home-garden", "玩具", "PHONES"])
def test_bad_category_codes_are_refused_and_change_nothing(shop, code):
    before = _snapshot(shop.db)
    with pytest.raises(InvalidInput) as info:
        ca.add_category(shop.db, shop.users["ops_lead"], code, "Name", "名称")
    assert "lower-case letters, digits and underscores" in info.value.message("en")
    assert _snapshot(shop.db) == before


def test_codes_at_the_length_limits_are_fine(shop):
    lead = shop.users["ops_lead"]
    for code in ("AB", "W" * 8 + "_9"):
        ca.add_warehouse(shop.db, lead, code, f"Warehouse {code}", f"仓库 {code}")
    for code in ("ab", "c" * 18 + "_9"):
        ca.add_category(shop.db, lead, code, f"Category {code}", f"品类 {code}")
    assert len(ca.list_warehouses(shop.db, lead)) == 4 and _category_codes(shop.db)[-2:] == ["ab", "c" * 18 + "_9"]


def test_a_code_is_unique(shop):
    lead = shop.users["ops_lead"]
    before = _snapshot(shop.db)
    with pytest.raises(RuleViolation) as info:
        ca.add_warehouse(shop.db, lead, "SH", "Shanghai 2", "上海二仓")
    assert info.value.message("en") == "A warehouse with the code SH already exists; codes are never reused."
    assert info.value.message("zh") == "已存在代码为 SH 的仓库；代码不能重复使用。"
    with pytest.raises(RuleViolation) as info:
        ca.add_category(shop.db, lead, "toys", "Toys 2", "玩具二")
    assert info.value.message("en") == "A category with the code toys already exists; codes are never reused."
    assert _snapshot(shop.db) == before


@pytest.mark.parametrize("name_en, name_zh, message", [
    ("", "名称", "The English name is required."),
    ("Name", "  ", "The Chinese name is required."),
    ("x" * 81, "名称", "A name is at most 80 characters."),
    ("Name", "长" * 81, "A name is at most 80 characters."),
    ("two\nlines", "名称", "A name is one line of text, without line breaks or control characters."),
    ("Name", "制表\t符", "A name is one line of text, without line breaks or control characters."),
    ("bell\x07", "名称", "A name is one line of text, without line breaks or control characters."),
])
def test_bad_names_are_refused_when_adding_and_renaming(shop, name_en, name_zh, message):
    lead = shop.users["ops_lead"]
    before = _snapshot(shop.db)
    calls = (lambda: ca.add_warehouse(shop.db, lead, "BJ", name_en, name_zh),
             lambda: ca.add_category(shop.db, lead, "garden", name_en, name_zh),
             lambda: ca.rename_warehouse(shop.db, lead, "SH", name_en, name_zh),
             lambda: ca.rename_category(shop.db, lead, "toys", name_en, name_zh))
    for call in calls:
        with pytest.raises(InvalidInput) as info:
            call()
        assert info.value.message("en") == message
    assert _snapshot(shop.db) == before


def test_names_of_80_characters_and_odd_text_are_kept_as_written(shop):
    text = "<b>x</b>'; DROP TABLE warehouses; --"
    ca.add_warehouse(shop.db, shop.users["admin"], "ODD", text, "长" * 80)
    assert _rows(shop.db, "SELECT name_en, name_zh FROM warehouses WHERE code = 'ODD'") == [(text, "长" * 80)]


def test_no_word_may_name_two_entries_because_imports_look_them_up_by_any(shop):
    lead = shop.users["ops_lead"]
    before = _snapshot(shop.db)
    with pytest.raises(RuleViolation) as info:
        ca.add_warehouse(shop.db, lead, "BJ", "shanghai", "北京仓")         # another's English name, any case
    assert info.value.message("en").startswith("“shanghai” already names the warehouse SH: an import finds")
    assert "仓库 SH" in info.value.message("zh")
    with pytest.raises(RuleViolation):
        ca.add_warehouse(shop.db, lead, "BJ", "Beijing", "gz")              # another's code
    with pytest.raises(RuleViolation):
        ca.add_category(shop.db, lead, "games", "Games", "手机")            # another's Chinese name
    with pytest.raises(RuleViolation):
        ca.rename_category(shop.db, lead, "toys", "PHONES", "玩具")
    assert _snapshot(shop.db) == before
    ca.rename_warehouse(shop.db, lead, "GZ", "gz", "广州仓")                # its own code is fine
    ca.add_category(shop.db, lead, "shanghai", "Shanghai goods", "上海货")   # warehouses are a separate list


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_only_leads_and_admins_manage_warehouses_and_categories(shop, role):
    user = shop.users[role]
    before = _snapshot(shop.db)
    calls = (lambda: ca.add_warehouse(shop.db, user, "BJ", "Beijing", "北京仓"),
             lambda: ca.add_category(shop.db, user, "garden", "Garden", "园艺"),
             lambda: ca.rename_warehouse(shop.db, user, "SH", "Shanghai 2", "上海二仓"),
             lambda: ca.rename_category(shop.db, user, "toys", "Games", "游戏"),
             lambda: ca.move_category(shop.db, user, "toys", -1),
             lambda: ca.list_warehouses(shop.db, user),
             lambda: ca.list_categories(shop.db, user))
    for call in calls:
        with pytest.raises(PermissionDenied) as info:
            call()
        assert "operations leads" in info.value.message("en")
    assert _snapshot(shop.db) == before


# --- renaming ---------------------------------------------------------------------------------------------

def test_rename_changes_names_only_and_is_audited_with_before_and_after(shop):
    lead = shop.users["ops_lead"]
    wh = ca.rename_warehouse(shop.db, lead, "SH", "Shanghai East", "上海仓")
    assert wh == {"code": "SH", "name_en": "Shanghai East", "name_zh": "上海仓"}
    cat = ca.rename_category(shop.db, lead, "phones", "Mobile phones", "移动电话")
    assert cat == {"code": "phones", "name_en": "Mobile phones", "name_zh": "移动电话", "sort_order": 1}
    assert _audits(shop.db) == [
        {"action": "warehouse.rename", "entity": ("warehouse", "SH"), "before": {"name_en": "Shanghai"},
         "after": {"name_en": "Shanghai East"}},
        {"action": "category.rename", "entity": ("category", "phones"),
         "before": {"name_en": "Phones", "name_zh": "手机"}, "after": {"name_en": "Mobile phones", "name_zh": "移动电话"}}]
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)        # stock still refers to the same code
    assert _rows(shop.db, "SELECT count(*) FROM products WHERE category = 'phones'") == [(2,)]


def test_a_rename_that_changes_nothing_writes_nothing(shop):
    lead = shop.users["ops_lead"]
    assert ca.rename_warehouse(shop.db, lead, "GZ", " Guangzhou ", "广州仓")["name_en"] == "Guangzhou"
    assert ca.rename_category(shop.db, lead, "toys", "Toys", "玩具")["sort_order"] == 2
    assert _audits(shop.db) == []


def test_unknown_codes_are_not_found(shop):
    lead = shop.users["ops_lead"]
    with pytest.raises(NotFound) as info:
        ca.rename_warehouse(shop.db, lead, "XX", "X", "X")
    assert info.value.message("en") == "There is no warehouse with the code XX."
    assert info.value.message("zh") == "没有代码为 XX 的仓库。"
    with pytest.raises(NotFound):
        ca.rename_category(shop.db, lead, "SH", "X", "X")          # a warehouse code is no category
    with pytest.raises(NotFound):
        ca.move_category(shop.db, lead, "", 1)


# --- moving -----------------------------------------------------------------------------------------------

def test_categories_move_up_and_down_and_each_move_is_audited(shop):
    lead = shop.users["ops_lead"]
    ca.add_category(shop.db, lead, "garden", "Garden", "园艺")
    assert ca.move_category(shop.db, lead, "garden", -1) == ["phones", "garden", "toys"]
    assert ca.move_category(shop.db, lead, "phones", 1) == ["garden", "phones", "toys"]
    assert _category_codes(shop.db) == ["garden", "phones", "toys"]
    moves = [a for a in _audits(shop.db) if a["action"] == "category.move"]
    assert [(m["entity"][1], m["before"]["order"], m["after"]["order"]) for m in moves] == [
        ("garden", ["phones", "toys", "garden"], ["phones", "garden", "toys"]),
        ("phones", ["phones", "garden", "toys"], ["garden", "phones", "toys"])]


def test_moving_past_either_end_changes_and_audits_nothing(shop):
    lead = shop.users["ops_lead"]
    assert ca.move_category(shop.db, lead, "phones", -1) == ["phones", "toys"]
    assert ca.move_category(shop.db, lead, "toys", 1) == ["phones", "toys"]
    assert _audits(shop.db) == []


@pytest.mark.parametrize("step", [0, 2, -2, True, "1"])
def test_a_move_is_one_place_at_a_time(shop, step):
    with pytest.raises(InvalidInput) as info:
        ca.move_category(shop.db, shop.users["ops_lead"], "toys", step)
    assert info.value.message("en") == "A category moves one place up or down at a time."
    assert _category_codes(shop.db) == ["phones", "toys"]


def test_equal_sort_orders_are_renumbered_when_moving(shop):
    with shop.db.transaction() as cur:
        cur.execute("INSERT INTO categories VALUES ('books', 'Books', '图书', 0), ('art', 'Art', '艺术', 0)")
    assert ca.move_category(shop.db, shop.users["admin"], "phones", -1) == ["art", "phones", "books", "toys"]
    assert _rows(shop.db, "SELECT code, sort_order FROM categories ORDER BY sort_order") == [
        ("art", 10), ("phones", 20), ("books", 30), ("toys", 40)]


# --- a team's own data, from an empty database -------------------------------------------------------------

def _import(db, user, kind: str, headers: list[str], lines: list[str]):
    source = read_bytes(f"{kind}.csv", orders_csv(lines, headers))
    return run_import(db, user, source, propose(kind, source))


def test_an_empty_database_is_set_up_and_takes_an_import(db):
    """init-db only: no warehouses, no categories, so the import refuses (pointing at the page) until they exist."""
    lead = add_user(db, "lead", "ops_lead")
    products = (["sku", "name", "category", "unit_price"], ["KB-1,Keyboard,外设,199", "MS-1,Mouse,peripherals,59"])
    stock = (["warehouse", "sku", "qty"], ["杭州仓,KB-1,40", "HZ,MS-1,25"])
    refused = _import(db, lead, "products", *products)
    assert not refused.ok and refused.problems["reason"].str.contains("Control → Warehouses & categories").all()

    ca.add_warehouse(db, lead, "HZ", "Hangzhou", "杭州仓")
    ca.add_category(db, lead, "peripherals", "Peripherals", "外设")
    assert _import(db, lead, "products", *products).counts == {"products": 2}
    assert _import(db, lead, "stock", *stock).ok
    assert balance(db, "HZ", "KB-1") == (40, 0, 0) and balance(db, "HZ", "MS-1") == (25, 0, 0)
    assert [(c["code"], c["products"]) for c in ca.list_categories(db, lead)] == [("peripherals", 2)]
    assert [(w["code"], w["skus"]) for w in ca.list_warehouses(db, lead)] == [("HZ", 2)]
    result = run_checks(db)
    assert result["ok"], result["problems"]
