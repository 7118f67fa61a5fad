import re

from lib import i18n
from lib.domain import ORDER_STATUSES, PAYMENT_STATUSES, PERMISSIONS, ROLES


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_both_catalogues_have_the_same_keys():
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh")
    assert sorted(set(en) - set(zh)) == []
    assert sorted(set(zh) - set(en)) == []


def test_translations_use_the_same_placeholders():
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh")
    mismatched = [k for k in en if _placeholders(en[k]) != _placeholders(zh[k])]
    assert mismatched == []


def test_no_translation_is_empty():
    for lang in i18n.LANGUAGES:
        assert [k for k, v in i18n.catalogue(lang).items() if not v.strip()] == []


def test_every_role_status_and_action_has_words():
    keys = ([f"role.{r}" for r in ROLES] + [f"role_plural.{r}" for r in ROLES]
            + [f"status.{s}" for s in ORDER_STATUSES] + [f"payment.{p}" for p in PAYMENT_STATUSES]
            + [f"action.{a}" for a in PERMISSIONS])
    for lang in i18n.LANGUAGES:
        assert [k for k in keys if k not in i18n.catalogue(lang)] == []


def test_keys_used_in_code_exist():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"""\b(?:tr|t|VoidDeskError|InvalidInput|RuleViolation|NotFound|AuthFailed|"""
                         r"""PermissionDenied|ConcurrentChange)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
    used = set()
    for path in list(root.glob("lib/**/*.py")) + list(root.glob("pages/*.py")) + [root / "app.py"]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in i18n.catalogue("en"))
    assert missing == []


def test_label_falls_back_to_the_code():
    assert i18n.label("status", "voided", "zh") == "已作废"
    assert i18n.label("status", "no_such_status", "zh") == "no_such_status"


def test_numbers_and_dates_are_formatted_per_language():
    from datetime import datetime

    assert i18n.fmt_money(12345.5, "en") == "¥12,345.50"
    assert i18n.fmt_int(1234567, "zh") == "1,234,567"
    assert i18n.fmt_datetime(datetime(2026, 3, 4, 9, 5), "zh") == "2026年3月4日 09:05"
    assert i18n.fmt_datetime(datetime(2026, 3, 4, 9, 5), "en") == "04 Mar 2026 09:05"
    assert i18n.fmt_pct(0.0634, "en") == "6.3%"
