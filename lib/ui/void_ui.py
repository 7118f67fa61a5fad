"""Void widgets shared by the order page, the approvals page and the search page's batch panel."""
import pandas as pd
import streamlit as st

from lib import i18n
from lib.errors import PermissionDenied, VoidDeskError
from lib.ui.context import lang, md_escape, tr
from lib.ui.tables import show_table


def reason_picker(reasons: list[dict], key: str) -> tuple[str | None, str]:
    """Reason select plus note; returns (code, note). The note is required when the reason says so."""
    labels = {r["code"]: r["label"] for r in reasons}
    code = st.selectbox(tr("void.reason"), list(labels), format_func=labels.get, index=None,
                        placeholder=tr("void.reason_placeholder"), key=f"{key}_reason")
    needs_note = any(r["code"] == code and r["note_required"] for r in reasons)
    note = st.text_area(tr("void.note_required") if needs_note else tr("void.note"), key=f"{key}_note",
                        max_chars=2000, height=80)
    return code, note


def impact(preview: dict) -> None:
    """The impact preview (SPEC §4): stock released, refund owed, who is told, approval, customer history."""
    money = lambda v: i18n.fmt_money(v, lang())  # noqa: E731
    if preview.get("needs_approval"):
        why = tr(f"approval_reason.{preview['approval_reason']}")
        st.warning(tr("void.needs_approval", why=why, threshold=money(preview.get("threshold"))),
                   icon=":material/gavel:")
    elif preview.get("eligible"):   # SPEC §4: the preview says whether approval is needed, and why (not)
        st.info(tr("void.no_approval", threshold=money(preview.get("threshold"))), icon=":material/verified:")
    left, right = st.columns(2)
    left.metric(tr("void.refund_owed"), money(preview.get("refund") or 0))
    released = preview.get("release") or []
    right.metric(tr("void.units_released"), i18n.fmt_int(sum(r["qty"] for r in released), lang()))
    if released:
        st.caption(tr("void.release_title"))
        show_table(pd.DataFrame(released)[["warehouse", "sku", "product_name", "qty"]], hide_index=True,
                   width="stretch", column_config={"warehouse": tr("col.warehouse"), "sku": tr("col.sku"),
                                                   "product_name": tr("col.product"), "qty": tr("col.qty")})
    people = preview.get("notify") or []
    if people:
        st.caption(tr("void.notified"))
        st.markdown("\n".join(f"- {md_escape(p['display_name'])} · {tr('role.' + p['role'])} — {tr(p['why_key'])}"
                              for p in people))
    history = preview.get("customer_voids_90d") or []
    st.caption(tr("void.customer_history", n=preview.get("customer_void_count_90d", len(history)),
                  orders=preview.get("customer_orders_90d", 0)))
    if history:
        show_table(pd.DataFrame(history), hide_index=True, width="stretch",
                   column_config={"order_no": tr("col.order_no"), "voided_at": tr("col.voided_at"),
                                  "reason_label": tr("col.reason"),
                                  "total": st.column_config.NumberColumn(tr("col.total"), format="%.2f")})


def refusal_text(preview: dict, escape=None) -> str | None:
    """Why the order can't be voided, in the user's words, or None; `escape` as for VoidDeskError.message (md_escape
    for a help tooltip, none for a table cell)."""
    if preview.get("eligible"):
        return None
    if preview.get("refusal_message") and escape is None:
        return preview["refusal_message"]
    kind = PermissionDenied if preview["refusal"] == "error.permission" else VoidDeskError
    return kind(preview["refusal"], **(preview.get("refusal_params") or {})).message(lang(), escape)
