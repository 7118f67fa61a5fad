"""The reason catalogue, read side (SPEC §9): every reason of one kind with how often it was used lately."""
from datetime import datetime, timedelta

from lib import clock
from lib.db import Database, rows_as_dicts
from lib.domain import User, require
from lib.errors import InvalidInput

USAGE_DAYS = 90
OTHER_CODE = "other"
OTHER_HINT_SHARE = 0.15     # above this share of "other", the page suggests a more specific reason

# kind -> the records that use its reasons: table, the moment of use, which rows count. Voids count while in
# effect (applied, not rejected, pending or restored); every return note counts.
_USES = {"void": ("voids", "applied_at", "status = 'applied'"),
         "return": ("return_notes", "created_at", "TRUE")}


def check_kind(kind: str) -> str:
    """The kind ('void' or 'return'), or InvalidInput."""
    if kind not in _USES:
        raise InvalidInput("reasons.bad_kind", kind=str(kind))
    return kind


def reason_catalogue(db: Database, user: User, kind: str, *, days: int = USAGE_DAYS,
                     now: datetime | None = None) -> list[dict]:
    """Every reason of `kind`, retired ones included, in catalogue order: code, label_en, label_zh,
    note_required, active, sort_order, uses (records that used it in the last `days` days)."""
    require(user, "reasons.edit")
    table, moment, counted = _USES[check_kind(kind)]
    since = (now or clock.now()) - timedelta(days=days)
    with db.read() as cur:
        return rows_as_dicts(cur, f"""
            WITH used AS (SELECT reason_code AS code, count(*) AS uses FROM {table}
                          WHERE {counted} AND {moment} >= ? GROUP BY reason_code)
            SELECT r.code, r.label_en, r.label_zh, r.note_required, r.active, r.sort_order,
                   coalesce(u.uses, 0) AS uses
            FROM reasons r LEFT JOIN used u ON u.code = r.code
            WHERE r.kind = ? ORDER BY r.sort_order, r.code""", [since, kind])


def other_share(catalogue: list[dict]) -> dict:
    """{other, total, share, high} from a catalogue's usage: how many uses were "other", of how many, the
    share (None without uses) and whether it is above OTHER_HINT_SHARE."""
    total = sum(int(r["uses"]) for r in catalogue)
    other = sum(int(r["uses"]) for r in catalogue if r["code"] == OTHER_CODE)
    share = other / total if total else None
    return {"other": other, "total": total, "share": share, "high": share is not None and share > OTHER_HINT_SHARE}
