"""The reason catalogue (SPEC §9): add, rename, retire, re-activate and re-order void and return reasons.

A code never changes once created, and records that used a reason keep their own copy of its code and labels,
so no change here rewrites history. Every change is audited with before and after.
"""
import re

from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User, require
from lib.errors import InvalidInput, NotFound, RuleViolation
from lib.queries.reasons import check_kind
from lib.services import audit
from lib.services._catalogue import check_step, clean_code, clean_label, move_entry, whole_number

CODE_RE = re.compile(r"^[a-z0-9_]{2,40}$")
MAX_LABEL = 80
MAX_SORT_ORDER = 1_000_000
_COLUMNS = "code, label_en, label_zh, note_required, active, sort_order"
EDITABLE = ("label_en", "label_zh", "note_required", "active", "sort_order")
# Reasons the system sets itself (an order imported as voided); no form may offer them, so they stay retired.
SYSTEM_REASONS = {("void", "imported")}


def add_reason(db: Database, actor: User, kind: str, code: str, label_en: str, label_zh: str, *,
               note_required: bool = False) -> dict:
    """Create an active reason at the end of its kind's list; the code is unique per kind and never changes."""
    require(actor, "reasons.edit")
    check_kind(kind)
    code = _clean_code(code)
    if (kind, code) in SYSTEM_REASONS:
        raise RuleViolation("reasons.code_exists", code=code, kind=f"reasons.kind.{kind}")
    labels = {"label_en": _clean_label(label_en, "en"), "label_zh": _clean_label(label_zh, "zh")}
    with db.transaction() as cur:
        if scalar(cur, "SELECT count(*) FROM reasons WHERE kind = ? AND code = ?", [kind, code]):
            raise RuleViolation("reasons.code_exists", code=code, kind=f"reasons.kind.{kind}")
        _refuse_duplicate_labels(cur, kind, code, labels)
        sort_order = scalar(cur, "SELECT coalesce(max(sort_order), 0) + 10 FROM reasons WHERE kind = ?", [kind])
        cur.execute("INSERT INTO reasons (kind, code, label_en, label_zh, note_required, active, sort_order)"
                    " VALUES (?, ?, ?, ?, ?, TRUE, ?)",
                    [kind, code, labels["label_en"], labels["label_zh"], bool(note_required), sort_order])
        reason = _get(cur, kind, code)
        audit.record(cur, actor, "reason.create", "reason", f"{kind}/{code}", after=reason)
    return reason


def update_reason(db: Database, actor: User, kind: str, code: str, **changes) -> dict:
    """Change any of EDITABLE (labels, note required, active, sort order) and return the reason as it now reads.

    Retiring the last active reason of a kind is refused; a save that changes nothing writes nothing.
    """
    require(actor, "reasons.edit")
    check_kind(kind)
    wanted = _clean_changes(changes)
    with db.transaction() as cur:
        current = _get(cur, kind, code)
        changed = {k: v for k, v in wanted.items() if v != current[k]}
        if not changed:
            return current
        if changed.get("active") is False:
            _refuse_last_active(cur, kind, current["code"])
        if changed.get("active") and (kind, current["code"]) in SYSTEM_REASONS:
            raise RuleViolation("reasons.system_reason", code=current["code"])
        final = {**current, **changed}
        if final["active"] and {"label_en", "label_zh", "active"} & set(changed):
            _refuse_duplicate_labels(cur, kind, current["code"], {k: final[k] for k in ("label_en", "label_zh")})
        assignments = ", ".join(f"{column} = ?" for column in changed)   # columns from EDITABLE only
        cur.execute(f"UPDATE reasons SET {assignments} WHERE kind = ? AND code = ?",
                    [*changed.values(), kind, current["code"]])
        audit.record(cur, actor, _update_action(changed), "reason", f"{kind}/{current['code']}",
                     before={k: current[k] for k in changed}, after=changed)
    return final


def move_reason(db: Database, actor: User, kind: str, code: str, step: int) -> list[str]:
    """Move a reason one place up (step -1) or down (+1) in its kind's list; return the codes in their new order."""
    require(actor, "reasons.edit")
    check_kind(kind)
    check_step(step, "reasons")
    with db.transaction() as cur:
        current = _get(cur, kind, code)
        codes, moved = move_entry(cur, "reasons", current["code"], step, kind=kind)
        if moved != codes:       # already first (or last): nothing moved, nothing to audit
            audit.record(cur, actor, "reason.move", "reason", f"{kind}/{current['code']}",
                         before={"order": codes}, after={"order": moved})
    return moved


def _get(cur, kind: str, code: str) -> dict:
    rows = rows_as_dicts(cur, f"SELECT {_COLUMNS} FROM reasons WHERE kind = ? AND code = ?",
                         [kind, str(code or "").strip()])
    if not rows:
        raise NotFound("reasons.not_found", code=str(code or "").strip() or "—", kind=f"reasons.kind.{kind}")
    return rows[0]


def _refuse_last_active(cur, kind: str, code: str) -> None:
    if not scalar(cur, "SELECT count(*) FROM reasons WHERE kind = ? AND active AND code <> ?", [kind, code]):
        raise RuleViolation("reasons.last_active", kind=f"reasons.kind.{kind}")


def _refuse_duplicate_labels(cur, kind: str, code: str, labels: dict) -> None:
    """Two active reasons of one kind may not read the same: nobody could tell them apart in a picker."""
    for column, text in labels.items():
        if scalar(cur, f"SELECT count(*) FROM reasons WHERE kind = ? AND active AND code <> ?"
                       f" AND lower({column}) = lower(?)", [kind, code, text]):
            raise RuleViolation("reasons.label_taken", which=f"reasons.{column}")


def _update_action(changed: dict) -> str:
    if "active" in changed:
        return "reason.reactivate" if changed["active"] else "reason.retire"
    return "reason.update"


def _clean_changes(changes: dict) -> dict:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    cleaners = {"label_en": lambda v: _clean_label(v, "en"), "label_zh": lambda v: _clean_label(v, "zh"),
                "note_required": _as_flag, "active": _as_flag, "sort_order": _as_sort_order}
    return {k: cleaners[k](v) for k, v in changes.items() if v is not None}


def _clean_code(code) -> str:
    return clean_code(code, CODE_RE, "reasons.bad_code")


def _clean_label(text, lang: str) -> str:
    return clean_label(text, lang, MAX_LABEL, "reasons")


def _as_flag(value) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("reasons.bad_flag")
    return value


def _as_sort_order(value) -> int:
    number = whole_number(value)
    if number is None or not 0 <= number <= MAX_SORT_ORDER:
        raise InvalidInput("reasons.bad_sort_order", n=MAX_SORT_ORDER)
    return number
