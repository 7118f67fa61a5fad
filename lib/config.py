"""Configuration from the environment (and .streamlit/secrets.toml via lib.ui), with local defaults."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "voiddesk.duckdb"
LANGUAGES = ("en", "zh")


def db_path(explicit: str | None = None) -> str:
    """--db PATH, else VOIDDESK_DB, else data/voiddesk.duckdb."""
    return str(explicit or os.environ.get("VOIDDESK_DB") or DEFAULT_DB)


def default_language() -> str:
    lang = os.environ.get("VOIDDESK_LANG", "en")
    return lang if lang in LANGUAGES else "en"


def session_hours() -> float:
    return float(os.environ.get("VOIDDESK_SESSION_HOURS", "12"))
