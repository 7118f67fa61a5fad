"""An audit entry's before and after in words ("Status: Voided · Reason: Out of stock"), not the JSON they are kept
as ({"status": "voided", "reason": "out_of_stock"}): the audit log is read by operations leads, in both languages.

Known fields get their label (audit.field.*) and known values their words (a status by its record's kind, a reason
by the catalogue, a role, a language, money, yes/no); anything else is shown as it is kept, so nothing is hidden."""
import json
import math

from lib import i18n

# (record kind, field) -> the catalogue of words its codes are shown in (lib.i18n.label)
_CODE_WORDS = {("order", "status"): "status", ("void", "status"): "void_status", ("return", "status"): "return_status",
               ("refund", "status"): "refund_status", ("order", "payment_status"): "payment",
               ("user", "role"): "role", ("order", "void_status"): "void_status"}
# Entries whose "status" is the order's, though they are about a void: applying and restoring change the order.
_ORDER_STATUS = {"void.apply", "void.restore"}
_LANGUAGES = {"en": "English", "zh": "中文"}
_MONEY = {"total", "amount", "amount_paid", "refund_amount", "order_total", "refund", "refund_cancelled"}
_HIDDEN = {"reason_label_en", "reason_label_zh"}   # the reason's words, shown in its place
SEPARATOR = " · "


def change_words(text, entity_type: str, lang: str, reasons: dict[tuple[str, str], str], action: str = "") -> str:
    """The JSON `text` of a before or after cell of an `action` entry in words; "" for none; other text as it is."""
    if text is None or text == "" or (isinstance(text, float) and math.isnan(text)):   # none (pandas: NaN)
        return ""
    try:
        fields = json.loads(text)
        if not isinstance(fields, dict):
            return str(text)
        kind = "order" if action in _ORDER_STATUS else entity_type
        colon = "：" if lang == "zh" else ": "
        return SEPARATOR.join(f"{_field(key, lang)}{colon}{_value(key, value, kind, lang, reasons, fields)}"
                              for key, value in fields.items() if not (key in _HIDDEN and "reason" in fields))
    except (TypeError, ValueError, RecursionError):   # not JSON, or nested too deep to show: as it is kept
        return str(text)


def _field(key: str, lang: str) -> str:
    words = i18n.t(f"audit.field.{key}", lang)
    return key.replace("_", " ") if words == f"audit.field.{key}" else words


def _nested(value, lang: str) -> str:
    """A list or a record inside an entry: lines as "SKU × qty", anything else as its fields."""
    if isinstance(value, list):
        return ", ".join(_nested(item, lang) for item in value)
    if isinstance(value, dict):
        rest = ", ".join(f"{_field(k, lang)}: {_nested(v, lang)}" for k, v in value.items() if k not in ("sku", "qty"))
        if {"sku", "qty"} <= set(value):
            return f"{value['sku']} × {value['qty']}" + (f" ({rest})" if rest else "")
        return f"({rest})"
    return "—" if value is None else str(value)


def _value(key: str, value, entity_type: str, lang: str, reasons: dict, fields: dict) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return i18n.t("common.yes" if value else "common.no", lang)
    if isinstance(value, (dict, list)):
        return _nested(value, lang)
    kind = _CODE_WORDS.get((entity_type, key))
    if kind:
        return i18n.label(kind, str(value), lang)
    if key == "reason":
        return (fields.get(f"reason_label_{lang}") or reasons.get(("return" if entity_type == "return" else "void",
                                                                   str(value))) or str(value))
    if key == "language":
        return _LANGUAGES.get(str(value), str(value))
    if key in _MONEY:
        try:
            return i18n.fmt_money(value, lang)
        except ArithmeticError:   # decimal.InvalidOperation: not a number after all
            return str(value)
    return str(value)
