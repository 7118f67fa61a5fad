"""Refund queue for finance: refunds owed from voids and returns, mark paid out, totals per day (SPEC §7)."""
import uuid
from datetime import timedelta

import plotly.express as px
import streamlit as st

from lib import clock, i18n
from lib.domain import can
from lib.errors import VoidDeskError
from lib.queries.refunds import refund_queue, refund_totals_per_day
from lib.services.refunds import mark_paid
from lib.charts import date_ticks
from lib.ui.cached import clear_read_caches
from lib.ui.context import database, lang, md_escape, namer, show_error, tr
from lib.ui.guard import signed_in_user
from lib.ui.links import order_link
from lib.ui.tables import show_table

PAID_COLUMNS = ("paid_at", "paid_by", "payment_ref")   # empty but for refunds paid out: shown in that list only

db = database()
user = signed_in_user("refund.view")


def forget_selection() -> None:
    # A selection is a row position: after a payout, or in another status's list, that position is another
    # refund, and the pay form must not silently move on to it.
    st.session_state["refund_table"] = {"selection": {"rows": [], "columns": [], "cells": []}}


st.title(tr("refunds.title"))
flash = st.session_state.pop("refunds_flash", None)
if flash:
    st.success(flash, icon=":material/payments:")
    forget_selection()

# A link from a notification names the order (and the refund's status): the queue opens on that refund.
linked = st.query_params.get("order_no")
if linked and st.session_state.get("refund_linked") != linked:
    st.session_state.update(refund_linked=linked, refund_order_no=linked, refund_preselect=True,
                            refund_status=st.query_params.get("status", "pending"))
    forget_selection()
def status_changed() -> None:
    forget_selection()
    st.session_state.pop("refund_sort", None)   # each list opens in its own order: pending oldest, others newest first


status = st.segmented_control(tr("col.status"), ["pending", "paid", "cancelled"], default="pending",
                              format_func=lambda s: tr(f"refund_status.{s}"), key="refund_status", required=True,
                              on_change=status_changed)
row = st.columns([3, 3, 3, 2, 2, 3], vertical_alignment="bottom")
find = dict(order_no=row[0].text_input(tr("col.order_no"), key="refund_order_no", on_change=forget_selection),
            return_no=row[1].text_input(tr("returns.number"), key="refund_return_no", on_change=forget_selection),
            customer=row[2].text_input(tr("col.customer"), key="refund_customer", on_change=forget_selection,
                                       placeholder=tr("refunds.customer_hint")),
            min_amount=row[3].text_input(tr("refunds.min_amount"), key="refund_min", on_change=forget_selection),
            max_amount=row[4].text_input(tr("refunds.max_amount"), key="refund_max", on_change=forget_selection))
order = row[5].selectbox(tr("refunds.sort"), ["oldest", "newest"], key="refund_sort", on_change=forget_selection,
                         index=0 if status == "pending" else 1, format_func=namer("refunds.sort."))
try:
    queue = refund_queue(db, user, status=status, newest_first=order == "newest", **find)
except VoidDeskError as exc:
    show_error(exc)
    st.stop()
if st.session_state.pop("refund_preselect", False) and len(queue) == 1:   # the refund the link names, opened
    st.session_state["refund_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
st.caption(tr("refunds.count", n=i18n.fmt_int(len(queue), lang()),
              amount=i18n.fmt_money(queue["amount"].sum() if len(queue) else 0, lang())))
if "source" in queue:
    queue["source"] = queue["source"].map(lambda s: tr(f"refund_source.{s}"))
for column in ("return_no", "payment_ref", "paid_by"):
    if column in queue:
        queue[column] = queue[column].fillna("")
event = show_table(queue, hide_index=True, width="stretch", key="refund_table", on_select="rerun",
                   selection_mode="single-row",
                   column_order=[c for c in ("order_no", "customer", "source", "return_no", "amount", "created_at",
                                             "created_by", "paid_at", "paid_by", "payment_ref")
                                 if c in queue and (status == "paid" or c not in PAID_COLUMNS)],
                   column_config={
                       "order_no": tr("col.order_no"), "customer": tr("col.customer"), "source": tr("refunds.source"),
                       "return_no": tr("returns.number"),
                       "amount": st.column_config.NumberColumn(tr("col.amount"), format="%.2f"),
                       "created_at": st.column_config.DatetimeColumn(tr("col.created"), format="YYYY-MM-DD HH:mm"),
                       "created_by": tr("col.by"), "paid_at": st.column_config.DatetimeColumn(
                           tr("refund_status.paid"), format="YYYY-MM-DD HH:mm"),
                       "paid_by": tr("refunds.paid_by"), "payment_ref": tr("refunds.payment_ref")})

rows = [r for r in (event.selection.rows if event and event.selection else []) if r < len(queue)]
if rows and status == "pending":
    refund = queue.iloc[rows[0]]
    st.subheader(tr("refunds.pay_title", order_no=md_escape(refund["order_no"]),
                    amount=i18n.fmt_money(refund["amount"], lang())))
    order_link(refund["order_no"])
    if can(user, "refund.pay"):
        key = st.session_state.setdefault(f"pay_key_{refund['id']}", uuid.uuid4().hex)
        with st.form("pay"):
            ref = st.text_input(tr("refunds.payment_ref"), max_chars=100, key="refund_payment_ref")
            if st.form_submit_button(tr("refunds.mark_paid"), type="primary", icon=":material/payments:"):
                try:
                    mark_paid(db, user, int(refund["id"]), ref, submission_key=key)
                    clear_read_caches()
                    st.session_state["refunds_flash"] = tr("refunds.paid", order_no=md_escape(refund["order_no"]))
                    st.rerun()
                except VoidDeskError as exc:
                    show_error(exc)

st.subheader(tr("refunds.per_day"))
since = clock.today() - timedelta(days=30)
totals = refund_totals_per_day(db, user, since, clock.today())
if not totals.empty:
    long = totals.melt(id_vars="day", value_vars=["pending_amount", "paid_amount"], var_name="kind",
                       value_name="amount")
    long["kind"] = long["kind"].map(lambda k: tr(f"refunds.series.{k}"))
    fig = px.bar(long, x="day", y="amount", color="kind", barmode="group",
                 labels={"day": tr("refunds.day"), "amount": tr("col.amount"), "kind": ""})
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.2))
    date_ticks(fig, totals["day"], "day")   # numeric dates: the same in both languages, no English month names
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})
    money = st.column_config.NumberColumn
    show_table(totals, hide_index=True, width="stretch", column_config={
        "day": st.column_config.DateColumn(tr("refunds.day"), format="YYYY-MM-DD"),
        "count": st.column_config.NumberColumn(tr("refunds.col.count"), format="%d"),
        "created_amount": money(tr("refunds.col.created_amount"), format="%.2f"),
        "pending_amount": money(tr("refunds.col.pending_amount"), format="%.2f"),
        "paid_count": st.column_config.NumberColumn(tr("refunds.col.paid_count"), format="%d"),
        "paid_amount": money(tr("refunds.col.paid_amount"), format="%.2f")})
