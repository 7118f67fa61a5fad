"""Configuration from the environment (and .streamlit/secrets.toml via lib.ui), with local defaults."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "voiddesk.duckdb"
LANGUAGES = ("en", "zh")
DEFAULT_SESSION_HOURS = 12.0
MAX_SESSION_HOURS = 24 * 366
SESSION_COOKIE = "voiddesk_session"   # the browser cookie that keeps a sign-in across page loads


def db_path(explicit: str | None = None) -> str:
    """--db PATH, else VOIDDESK_DB, else data/voiddesk.duckdb."""
    return str(explicit or os.environ.get("VOIDDESK_DB") or DEFAULT_DB)


def default_language() -> str:
    lang = os.environ.get("VOIDDESK_LANG", "en")
    return lang if lang in LANGUAGES else "en"


def session_hours() -> float:
    """VOIDDESK_SESSION_HOURS (default 12). Anything but a number of hours above 0 and up to a year also means 12:
    it must neither break every sign-in (float('abc')) nor end each session as it opens ('0', '-1')."""
    try:
        hours = float(os.environ.get("VOIDDESK_SESSION_HOURS", DEFAULT_SESSION_HOURS))
    except ValueError:
        return DEFAULT_SESSION_HOURS
    return hours if 0 < hours <= MAX_SESSION_HOURS else DEFAULT_SESSION_HOURS   # NaN fails both comparisons
