"""Batch void from the search page's selection (SPEC §4): one reason, a per-order preview, one transaction."""
import uuid

import pandas as pd
import streamlit as st

from lib import i18n
from lib.domain import can
from lib.errors import VoidDeskError
from lib.queries.search import search_orders
from lib.queries.voids import active_reasons, message_for, preview_batch
from lib.services.voids import void_batch
from lib.ui.cached import clear_read_caches
from lib.ui.context import label, lang, show_error, tr
from lib.ui.void_ui import reason_picker, refusal_text
from lib.ui.tables import show_table

BATCH_LIMIT = 1000


def batch_panel(db, user, selected: list[str], filters, sort: str, total: int) -> None:
    """Batch actions on the selected orders (or on every match, up to the batch limit)."""
    if not (can(user, "void.create") or can(user, "void.request")):
        if selected:
            st.markdown(tr("search.selected", n=len(selected)))
        return
    everything = False
    if 0 < total <= BATCH_LIMIT:
        everything = st.toggle(tr("batch.all_matching", n=i18n.fmt_int(total, lang())), key="batch_all")
    if everything:
        selected = list(search_orders(db, user, filters, sort=sort, limit=BATCH_LIMIT).rows["order_no"])
    if not selected:
        st.caption(tr("search.select_hint"))
        return
    st.markdown(tr("search.selected", n=len(selected)))
    code, note = reason_picker(active_reasons(db, "void", lang()), "batch")
    if st.button(tr("batch.preview"), disabled=not code, key="batch_preview_button", icon=":material/preview:"):
        st.session_state["batch_preview"] = {
            "orders": tuple(selected), "code": code, "note": note, "key": uuid.uuid4().hex,
            "previews": preview_batch(db, user, selected, code, lang=lang())}
    batch = st.session_state.get("batch_preview")
    if not batch or batch["orders"] != tuple(selected) or batch["code"] != code:
        return
    _batch_preview_table(batch["previews"])
    eligible = [p for p in batch["previews"] if p["outcome_if_confirmed"] != "refused"]
    if st.button(tr("batch.confirm", n=len(eligible)), type="primary", disabled=not eligible,
                 key="batch_confirm", icon=":material/block:"):
        bar = st.progress(0.0, text=tr("batch.applying"))
        try:
            result = void_batch(db, user, list(batch["orders"]), code, note or None,
                                expected_versions={p["order_no"]: p["version"] for p in batch["previews"]},
                                submission_key=batch["key"], progress=lambda f: bar.progress(min(1.0, f)))
            st.session_state.pop("batch_preview", None)
            st.success(tr("batch.done", voided=result["voided"], pending=result["pending_approval"],
                          refused=result["refused"]), icon=":material/check_circle:")
            _batch_results_table(result["results"])
            clear_read_caches()
        except VoidDeskError as exc:
            st.session_state.pop("batch_preview", None)
            show_error(exc)


def _batch_preview_table(previews: list[dict]) -> None:
    rows = [{"order_no": p["order_no"], "status": label("status", p["status"]),
             "outcome": tr(f"batch.outcome.{p['outcome_if_confirmed']}"),
             "why": refusal_text(p) or (tr(f"approval_reason.{p['approval_reason']}") if p.get("needs_approval") else ""),
             "refund": float(p.get("refund") or 0)} for p in previews]
    show_table(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        "order_no": tr("col.order_no"), "status": tr("col.status"), "outcome": tr("batch.outcome"),
        "why": tr("batch.why"), "refund": st.column_config.NumberColumn(tr("void.refund_owed"), format="%.2f")})


def _batch_results_table(results: list[dict]) -> None:
    rows = [{"order_no": r["order_no"], "outcome": tr(f"batch.result.{r['outcome']}"),
             "message": message_for(r["message_key"], r.get("message_params"), lang()) if r.get("message_key")
             else r.get("message", ""),
             "refund": float(r.get("refund") or 0)} for r in results]
    show_table(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        "order_no": tr("col.order_no"), "outcome": tr("batch.outcome"), "message": tr("batch.why"),
        "refund": st.column_config.NumberColumn(tr("void.refund_owed"), format="%.2f")})
