"""The reason catalogue (SPEC §9, issue #7 item 1) through lib.services.reasons, on a real DuckDB file."""
import json
from datetime import timedelta

import pytest

from lib import clock
from lib.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from lib.queries import catalog
from lib.queries.orders import get_order, timeline
from lib.queries.reasons import other_share, reason_catalogue
from lib.queries.voids import active_reasons
from lib.services import reasons, voids
from lib.services.returns import create_return
from tests.integration.returns_fixture import shipped_order
from tests.integration.void_helpers import make_order

VOID_CODES = ["customer_cancelled", "out_of_stock", "order_error", "payment_failed", "fraud_risk", "other"]


def _rows(db, sql, params=None):
    with db.read() as cur:
        return cur.execute(sql, params or []).fetchall()


def _reason(db, kind, code) -> dict:
    [row] = _rows(db, "SELECT label_en, label_zh, note_required, active, sort_order FROM reasons"
                      " WHERE kind = ? AND code = ?", [kind, code])
    return dict(zip(("label_en", "label_zh", "note_required", "active", "sort_order"), row))


def _audits(db, action_prefix="reason."):
    return [{"action": a, "entity_id": e, "before": json.loads(b) if b else None, "after": json.loads(f)}
            for a, e, b, f in _rows(db, "SELECT action, entity_id, before, after FROM audit_log"
                                        " WHERE starts_with(action, ?) ORDER BY id", [action_prefix])]


def _void_codes(db) -> list[str]:
    return [r["code"] for r in active_reasons(db, "void", "en")]


def _all_codes(db, kind: str) -> list[str]:
    """Every code of a kind in catalogue order, retired ones included (a migration may add some)."""
    return [r[0] for r in _rows(db, "SELECT code FROM reasons WHERE kind = ? ORDER BY sort_order, code", [kind])]


# --- adding -----------------------------------------------------------------------------------------------

def test_added_reason_is_offered_at_the_end_of_the_list_and_audited(shop):
    lead = shop.users["ops_lead"]
    [(last,)] = _rows(shop.db, "SELECT max(sort_order) FROM reasons WHERE kind = 'void'")
    reason = reasons.add_reason(shop.db, lead, "void", "late_delivery", "Delivery too late", "交货太晚",
                                note_required=True)
    assert reason == {"code": "late_delivery", "label_en": "Delivery too late", "label_zh": "交货太晚",
                      "note_required": True, "active": True, "sort_order": last + 10}
    assert _void_codes(shop.db) == VOID_CODES + ["late_delivery"]
    [entry] = _audits(shop.db)
    assert (entry["action"], entry["entity_id"], entry["before"]) == ("reason.create", "void/late_delivery", None)
    assert entry["after"]["label_zh"] == "交货太晚" and entry["after"]["note_required"] is True


@pytest.mark.parametrize("code", ["", "a", "Late_delivery", "late delivery", "x" * 41, "late-delivery",
                                  "drop;table", "交货", " "])
def test_bad_codes_are_refused_and_change_nothing(shop, code):
    with pytest.raises(InvalidInput) as info:
        reasons.add_reason(shop.db, shop.users["ops_lead"], "void", code, "Label", "标签")
    assert "lower-case letters, digits and underscores" in info.value.message("en")
    assert _void_codes(shop.db) == VOID_CODES and _audits(shop.db) == []


def test_codes_of_40_characters_and_with_digits_are_fine(shop):
    reasons.add_reason(shop.db, shop.users["admin"], "return", "x" * 38 + "_2", "Long", "长")
    assert "x" * 38 + "_2" in [r["code"] for r in active_reasons(shop.db, "return", "en")]


def test_a_code_is_unique_per_kind_even_when_retired(shop):
    lead = shop.users["ops_lead"]
    reasons.add_reason(shop.db, lead, "void", "late", "Late", "晚了")
    reasons.update_reason(shop.db, lead, "void", "late", active=False)
    with pytest.raises(RuleViolation) as info:
        reasons.add_reason(shop.db, lead, "void", "late", "Late again", "又晚了")
    assert info.value.message("en") == "A void reason with the code late already exists; codes are never reused."
    assert info.value.message("zh") == "已存在代码为 late 的作废原因；代码不能重复使用。"
    reasons.add_reason(shop.db, lead, "return", "late", "Late", "晚了")      # the other kind has its own codes


@pytest.mark.parametrize("label_en, label_zh, message", [
    ("", "标签", "The English label is required."),
    ("Label", "  ", "The Chinese label is required."),
    ("x" * 81, "标签", "A label is at most 80 characters."),
    ("Label", "长" * 81, "A label is at most 80 characters."),
    ("two\nlines", "标签", "A label is one line of text, without line breaks or control characters."),
])
def test_bad_labels_are_refused(shop, label_en, label_zh, message):
    with pytest.raises(InvalidInput) as info:
        reasons.add_reason(shop.db, shop.users["ops_lead"], "void", "new_one", label_en, label_zh)
    assert info.value.message("en") == message
    with pytest.raises(InvalidInput):
        reasons.update_reason(shop.db, shop.users["ops_lead"], "void", "other", label_en=label_en,
                              label_zh=label_zh)
    assert _reason(shop.db, "void", "other")["label_en"] == "Other" and _audits(shop.db) == []


def test_html_and_sql_in_labels_are_kept_as_plain_text(shop):
    text = "<b>x</b>'; DROP TABLE reasons; --"
    reasons.add_reason(shop.db, shop.users["ops_lead"], "void", "odd_one", text, "奇怪")
    assert _reason(shop.db, "void", "odd_one")["label_en"] == text


def test_two_active_reasons_of_a_kind_cannot_read_the_same(shop):
    with pytest.raises(RuleViolation) as info:
        reasons.add_reason(shop.db, shop.users["ops_lead"], "void", "oos", "out of stock", "断货")
    assert info.value.message("en") == "Another active reason of this kind already has this English label."


@pytest.mark.parametrize("role", ["ops", "sales", "analyst", "finance", "warehouse"])
def test_only_leads_and_admins_edit_the_catalogue(shop, role):
    user = shop.users[role]
    with pytest.raises(PermissionDenied) as info:
        reasons.add_reason(shop.db, user, "void", "late", "Late", "晚了")
    assert "operations leads" in info.value.message("en")
    for call in (lambda: reasons.update_reason(shop.db, user, "void", "other", label_en="Else"),
                 lambda: reasons.move_reason(shop.db, user, "void", "other", -1),
                 lambda: reason_catalogue(shop.db, user, "void")):
        with pytest.raises(PermissionDenied):
            call()
    assert _reason(shop.db, "void", "other")["label_en"] == "Other"


def test_unknown_kind_or_code_is_refused(shop):
    lead = shop.users["ops_lead"]
    with pytest.raises(InvalidInput):
        reasons.add_reason(shop.db, lead, "refund", "late", "Late", "晚了")
    with pytest.raises(NotFound) as info:
        reasons.update_reason(shop.db, lead, "void", "no_such", label_en="X")
    assert info.value.message("en") == "There is no void reason with the code no_such."


def test_the_code_itself_cannot_be_edited(shop):
    assert "code" not in reasons.EDITABLE
    with pytest.raises(TypeError):
        reasons.update_reason(shop.db, shop.users["ops_lead"], "void", "other", new_code="else")


# --- renaming and history ---------------------------------------------------------------------------------

def test_rename_is_audited_with_before_and_after_of_what_changed(shop):
    lead = shop.users["ops_lead"]
    result = reasons.update_reason(shop.db, lead, "void", "out_of_stock", label_en="Sold out", label_zh="缺货",
                                   note_required=True)
    assert result["label_en"] == "Sold out" and result["note_required"] is True
    [entry] = _audits(shop.db)
    assert entry["action"] == "reason.update" and entry["entity_id"] == "void/out_of_stock"
    assert entry["before"] == {"label_en": "Out of stock", "note_required": False}
    assert entry["after"] == {"label_en": "Sold out", "note_required": True}


def test_a_save_that_changes_nothing_writes_nothing(shop):
    reasons.update_reason(shop.db, shop.users["ops_lead"], "void", "other", label_en=" Other ", label_zh="其他",
                          note_required=True, active=True, sort_order=90)
    assert _audits(shop.db) == []


def test_renaming_never_changes_history_but_new_voids_get_the_new_label(shop):
    lead, ops = shop.users["ops_lead"], shop.users["ops"]
    first = make_order(shop)
    voids.void_order(shop.db, ops, first, "out_of_stock")
    reasons.update_reason(shop.db, lead, "void", "out_of_stock", label_en="Sold out", label_zh="售罄")
    second = make_order(shop)
    voids.void_order(shop.db, ops, second, "out_of_stock")

    def applied_reason(order_no, lang):
        order = get_order(shop.db, ops, order_no)
        [event] = [e for e in timeline(shop.db, ops, order["id"], lang) if e["kind"] == "void_applied"]
        return event["params"]["reason"]

    assert (applied_reason(first, "en"), applied_reason(first, "zh")) == ("Out of stock", "缺货")
    assert (applied_reason(second, "en"), applied_reason(second, "zh")) == ("Sold out", "售罄")
    assert _rows(shop.db, "SELECT reason_label_en FROM voids ORDER BY id") == [("Out of stock",), ("Sold out",)]


# --- retiring ---------------------------------------------------------------------------------------------

def test_retired_void_reason_leaves_the_form_and_is_refused_but_stays_in_history(shop):
    lead, ops = shop.users["ops_lead"], shop.users["ops"]
    voids.void_order(shop.db, ops, make_order(shop), "fraud_risk")      # also warms the kept reasons (memo)
    reasons.update_reason(shop.db, lead, "void", "fraud_risk", active=False)
    assert "fraud_risk" not in _void_codes(shop.db)
    order_no = make_order(shop)
    with pytest.raises(InvalidInput) as info:
        voids.void_order(shop.db, ops, order_no, "fraud_risk")
    assert "fraud_risk" in info.value.message("en")
    assert _rows(shop.db, "SELECT count(*) FROM voids WHERE reason_code = 'fraud_risk'") == [(1,)]
    assert catalog.reason_labels(shop.db, "en")[("void", "fraud_risk")] == "Suspected fraud"
    assert [r["active"] for r in reason_catalogue(shop.db, lead, "void") if r["code"] == "fraud_risk"] == [False]
    [entry] = _audits(shop.db)
    assert (entry["action"], entry["before"], entry["after"]) == ("reason.retire", {"active": True},
                                                                  {"active": False})
    reasons.update_reason(shop.db, lead, "void", "fraud_risk", active=True)
    assert voids.void_order(shop.db, ops, order_no, "fraud_risk")["outcome"] == "voided"
    assert _audits(shop.db)[-1]["action"] == "reason.reactivate"


def test_retired_return_reason_is_refused_for_new_returns(shop):
    lead, ops = shop.users["ops_lead"], shop.users["ops"]
    reasons.update_reason(shop.db, lead, "return", "damaged", active=False)
    assert "damaged" not in [r["code"] for r in active_reasons(shop.db, "return", "en")]
    with pytest.raises(InvalidInput):
        create_return(shop.db, ops, shipped_order(shop), {"PHN-1": 1}, "damaged")


def test_the_last_active_reason_of_a_kind_cannot_be_retired(shop):
    lead = shop.users["ops_lead"]
    for code in VOID_CODES[:-1]:
        reasons.update_reason(shop.db, lead, "void", code, active=False)
    with pytest.raises(RuleViolation) as info:
        reasons.update_reason(shop.db, lead, "void", "other", active=False)
    assert info.value.message("en") == ("This is the last active void reason; add or re-activate another one "
                                        "first.")
    assert _void_codes(shop.db) == ["other"] and len(_audits(shop.db)) == len(VOID_CODES) - 1
    reasons.update_reason(shop.db, lead, "return", "other", active=False)   # returns still have four others


# --- order ------------------------------------------------------------------------------------------------

def test_moving_a_reason_swaps_it_with_its_neighbour_and_is_audited(shop):
    lead = shop.users["ops_lead"]
    before = _all_codes(shop.db, "void")
    moved = reasons.move_reason(shop.db, lead, "void", "other", -1)
    assert moved == _all_codes(shop.db, "void")
    assert _void_codes(shop.db) == VOID_CODES[:4] + ["other", "fraud_risk"]
    [entry] = _audits(shop.db)
    assert entry["action"] == "reason.move" and entry["entity_id"] == "void/other"
    assert (entry["before"], entry["after"]) == ({"order": before}, {"order": moved})
    assert reasons.move_reason(shop.db, lead, "void", "customer_cancelled", -1) == moved   # already first
    assert len(_audits(shop.db)) == 1
    with pytest.raises(InvalidInput):
        reasons.move_reason(shop.db, lead, "void", "other", 2)


def test_moving_among_equal_sort_orders_renumbers_the_kind(shop):
    with shop.db.transaction() as cur:
        cur.execute("UPDATE reasons SET sort_order = 0 WHERE kind = 'return'")
    codes = _all_codes(shop.db, "return")
    moved = reasons.move_reason(shop.db, shop.users["admin"], "return", codes[0], 1)
    assert moved == [codes[1], codes[0]] + codes[2:] == _all_codes(shop.db, "return")
    assert len({r[0] for r in _rows(shop.db, "SELECT sort_order FROM reasons WHERE kind = 'return'")}) == len(codes)


def test_sort_order_can_be_edited_and_bad_values_are_refused(shop):
    lead = shop.users["ops_lead"]
    reasons.update_reason(shop.db, lead, "void", "other", sort_order=5)
    assert _void_codes(shop.db)[0] == "other"
    for bad in (-1, "x", 2.5, 10_000_001):
        with pytest.raises(InvalidInput):
            reasons.update_reason(shop.db, lead, "void", "other", sort_order=bad)


# --- use in the last 90 days ------------------------------------------------------------------------------

def test_catalogue_counts_voids_in_effect_and_returns_of_the_last_90_days(shop):
    lead, ops = shop.users["ops_lead"], shop.users["ops"]
    for code in ("other", "other", "customer_cancelled"):
        voids.void_order(shop.db, ops, make_order(shop), code, "why not")
    old = make_order(shop)
    voids.void_order(shop.db, ops, old, "other", "long ago")
    voids.void_order(shop.db, shop.users["sales"], make_order(shop, by="sales"), "other", "waiting")  # a request
    with shop.db.transaction() as cur:
        cur.execute("UPDATE voids SET applied_at = ? WHERE order_no = ?", [clock.now() - timedelta(days=91), old])
    create_return(shop.db, ops, shipped_order(shop), {"TOY-1": 1}, "quality")
    uses = {r["code"]: r["uses"] for r in reason_catalogue(shop.db, lead, "void")}
    assert set(uses) == set(_all_codes(shop.db, "void"))
    assert {code: n for code, n in uses.items() if n} == {"customer_cancelled": 1, "other": 2}
    share = other_share(reason_catalogue(shop.db, lead, "void"))
    assert (share["other"], share["total"], share["high"]) == (2, 3, True)
    assert share["share"] == pytest.approx(2 / 3)
    returns = {r["code"]: r["uses"] for r in reason_catalogue(shop.db, lead, "return")}
    assert returns["quality"] == 1 and sum(returns.values()) == 1


def test_other_share_is_none_without_uses_and_quiet_when_low():
    assert other_share([{"code": "other", "uses": 0}])["share"] is None
    rows = [{"code": "other", "uses": 15}, {"code": "x", "uses": 85}]
    assert other_share(rows)["high"] is False
    assert other_share([{"code": "other", "uses": 16}, {"code": "x", "uses": 84}])["high"] is True


def test_the_system_reason_for_imported_voids_cannot_be_reactivated(shop):
    from lib.errors import RuleViolation
    from lib.services.reasons import update_reason
    with pytest.raises(RuleViolation) as refused:
        update_reason(shop.db, shop.users["ops_lead"], "void", "imported", active=True)
    assert refused.value.key == "reasons.system_reason"
    with shop.db.read() as cur:
        assert cur.execute("SELECT active FROM reasons WHERE kind = 'void' AND code = 'imported'").fetchall() == [(False,)]
