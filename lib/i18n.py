"""English and Simplified Chinese: message catalogues and number/date formatting (SPEC §10)."""
import json
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = {"en": "English", "zh": "中文"}


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The flat key -> text mapping of one language."""
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def t(key: str, lang: str = "en", **params) -> str:
    """The text for `key` in `lang` with {params} filled in; falls back to English, then to the key."""
    text = catalogue(lang).get(key) or catalogue("en").get(key) or key
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def label(kind: str, code: str | None, lang: str) -> str:
    """A status, role or other code shown in words, e.g. label('status', 'voided', 'zh') -> 已作废."""
    if code is None:
        return ""
    return catalogue(lang).get(f"{kind}.{code}") or catalogue("en").get(f"{kind}.{code}") or code


def in_language(params: dict, lang: str) -> dict:
    """Message parameters for `lang`: a parameter stored in both languages (`reason_en`, `reason_zh`) fills the
    placeholder without the suffix ({reason}); stored notifications are read in each reader's language."""
    suffix = f"_{lang}"
    return {**params, **{k[:-len(suffix)]: v for k, v in params.items() if k.endswith(suffix)}}


def join_words(words: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def fmt_int(value, lang: str = "en") -> str:
    if value is None:
        return "–"
    return f"{int(value):,}"


def fmt_money(value, lang: str = "en") -> str:
    """Money with thousands separators and two decimals, with the currency sign of the language."""
    if value is None:
        return "–"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return f"¥{amount:,.2f}"


def fmt_pct(value, lang: str = "en", digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def fmt_date(value, lang: str = "en") -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = value.date()
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.strftime("%d %b %Y")


def fmt_datetime(value, lang: str = "en") -> str:
    if value is None:
        return "–"
    if not isinstance(value, datetime):
        return fmt_date(value, lang) if isinstance(value, date) else str(value)
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    return value.strftime("%d %b %Y %H:%M")
