"""The audit log's before and after cells in words, in both languages (lib.ui.audit_cells)."""
from lib.ui.audit_cells import change_words

REASONS = {("void", "out_of_stock"): "缺货", ("return", "damaged"): "破损"}


def test_known_fields_and_codes_read_as_words():
    assert change_words('{"status": "voided"}', "order", "en", {}) == "Status: Voided"
    assert change_words('{"status": "applied", "reason": "out_of_stock"}', "void", "zh", REASONS) == "状态：已作废 · 原因：缺货"
    assert change_words('{"status": "pending", "amount": "12.5"}', "refund", "en", {}) == "Status: Pending · Amount: ¥12.50"
    assert change_words('{"role": "ops_lead", "active": false}', "user", "en", {}) == "Role: Operations lead · Active: No"
    assert change_words('{"language": "zh"}', "user", "zh", {}) == "语言：中文"


def test_applying_or_restoring_a_void_shows_the_orders_status():
    assert change_words('{"status": "processing"}', "void", "zh", {}, "void.apply") == "状态：处理中"
    assert change_words('{"status": "voided", "void_status": "applied"}', "void", "en", {}, "void.restore") == \
        "Status: Voided · Void status: Voided"
    assert change_words('{"status": "pending_approval"}', "void", "en", {}, "void.request") == "Status: Awaiting approval"


def test_a_batchs_reason_uses_the_words_kept_with_it():
    text = '{"reason": "gone", "reason_label_en": "Gone away", "reason_label_zh": "已离开", "batch": "b1"}'
    assert change_words(text, "void", "en", {}) == "Reason: Gone away · Batch: b1"


def test_what_is_not_known_is_shown_as_kept_and_nothing_is_hidden():
    assert change_words('{"new_field": [1, 2], "other": null}', "order", "en", {}) == "new field: 1, 2 · other: —"
    assert change_words('{"lines": [{"sku": "A-1", "qty": 2, "unit_price": "9"}], "top": {"key": "GZ", "share": 0.8}}',
                        "return", "en", {}) == "Lines: A-1 × 2 (unit price: 9) · Mostly from: (key: GZ, share: 0.8)"
    deep = "[" * 5000 + "]" * 5000
    assert change_words('{"x": ' + deep + "}", "order", "en", {}) == '{"x": ' + deep + "}"   # shown as kept
    assert change_words('{"reason_label_en": "Gone"}', "void", "en", {}) == "reason label en: Gone"   # not hidden
    assert change_words("not json {", "order", "en", {}) == "not json {"
    assert change_words('["a"]', "order", "en", {}) == '["a"]'
    assert change_words(None, "order", "en", {}) == "" and change_words("", "order", "en", {}) == ""
    assert change_words(float("nan"), "user", "zh", {}) == ""          # pandas' missing value
    assert change_words('{"total": "n/a"}', "order", "en", {}) == "Total: n/a"
