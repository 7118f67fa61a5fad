"""Small pieces shared by the read-side filters: codes as lists, inclusive day ranges."""
from datetime import datetime, time, timedelta

from lib.queries.search_filters import parse_date


def day_bounds(date_from, date_to) -> tuple[datetime | None, datetime | None]:
    """[start, end) timestamps for inclusive days given as dates or 'YYYY-MM-DD'; None where open."""
    start, end = parse_date(date_from, "from"), parse_date(date_to, "to")
    return (datetime.combine(start, time.min) if start else None,
            datetime.combine(end + timedelta(days=1), time.min) if end else None)


def listed(value) -> list[str]:
    """One code or a list of codes as a clean list (empty when none)."""
    if value in (None, ""):
        return []
    return [str(v).strip() for v in ([value] if isinstance(value, str) else value) if str(v).strip()]


def period_conditions(column: str, date_from, date_to, parts: list[str], params: list) -> None:
    """Append `column` within the inclusive days [date_from, date_to] (either may be open) to a WHERE."""
    start, end = day_bounds(date_from, date_to)
    if start:
        parts.append(f"{column} >= ?")
        params.append(start)
    if end:
        parts.append(f"{column} < ?")
        params.append(end)
