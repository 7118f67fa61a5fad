"""Returns, refunds, stock, inbox and audit pages through AppTest (issue 5), for the roles that see them."""
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.services import auth, voids
from lib.services.returns import create_return
from lib.ui.context import md_escape
from tests.app import builders as b
from tests.app.conftest import APP
from tests.app.readable import raw_names

ROOT = Path(APP).parent


def _lines(path, order_no: str) -> list[dict]:
    return b.rows(path, "SELECT l.id, l.sku, l.qty FROM order_lines l JOIN orders o ON o.id = l.order_id"
                        " WHERE o.order_no = ? ORDER BY l.line_no", [order_no])


def _return(path, *, qty: int = 2) -> tuple[str, str, list[dict]]:
    """(order_no, return_no, lines) for a new return of two lines of a shipped, paid order."""
    order_no = b.order(path, lines=2, qty=qty, status="shipped", paid=True)
    lines = _lines(path, order_no)
    result = create_return(b.handle(path), b.user(path, "ops"), order_no, {ln["sku"]: qty for ln in lines},
                           "quality", "scratched")
    return order_no, result["return_no"], lines


def _balance(path, warehouse: str, sku: str) -> dict:
    return b.value(path, "SELECT on_hand, reserved, quarantine FROM stock_balances WHERE warehouse = ? AND sku = ?",
                   [warehouse, sku])


# --- returns ---------------------------------------------------------------------------------------------

def test_return_dialog_creates_a_note_for_two_lines(app, demo_db_path):
    order_no = b.order(demo_db_path, lines=2, qty=3, status="shipped", paid=True)
    lines = _lines(demo_db_path, order_no)
    b.sign_in(app, "ops")
    app.session_state["return_dialog"] = order_no
    app.session_state["return_step"] = 1
    app.session_state["return_key"] = uuid.uuid4().hex
    b.open_page(app, "pages/order.py", no=order_no)
    app.number_input(key=f"return_qty_{lines[0]['id']}").set_value(2)
    app.number_input(key=f"return_qty_{lines[1]['id']}").set_value(1)
    app.selectbox(key="return_reason").set_value("quality").run()
    app.button(key="return_review").click().run()
    assert any("Return 3 item(s) of" in w for w in b.messages(app.warning))
    app.button(key="return_confirm").click().run()
    assert not app.exception
    created = [s for s in map(b.as_read, b.messages(app.success)) if s.startswith("Return note RT-")]
    assert created, b.messages(app.error)
    return_no = created[0].split()[2]
    note = b.rows(demo_db_path, "SELECT l.sku, l.qty, r.status FROM return_lines l JOIN return_notes r"
                                " ON r.id = l.return_id WHERE r.return_no = ? ORDER BY l.sku", [return_no])
    assert {(n["sku"], n["qty"]) for n in note} == {(lines[0]["sku"], 2), (lines[1]["sku"], 1)}
    assert {n["status"] for n in note} == {"requested"}
    b.assert_consistent(demo_db_path)


def test_returns_list_filters_by_order_and_opens_one_note(app, demo_db_path):
    order_no, return_no, lines = _return(demo_db_path)
    b.sign_in(app, "ops")
    b.open_page(app, "pages/returns.py")
    assert app.title[0].value == "Returns (退库单)"
    app.text_input(key="ret_order").input(order_no).run()
    listed = b.table_with(app, "return_no")
    assert list(listed["return_no"]) == [return_no]
    b.open_page(app, "pages/returns.py", no=return_no)
    assert not app.exception
    assert app.title[0].value == f"Return {md_escape(return_no)}"
    assert set(b.table_with(app, "sku")["sku"]) == {ln["sku"] for ln in lines}
    assert "scratched" in [t.value for t in app.text]
    assert not [btn for btn in app.button if btn.key == "receive"]   # ops may not receive goods


def test_warehouse_receives_then_inspects_with_a_disposition_per_line(app, demo_db_path):
    _order_no, return_no, lines = _return(demo_db_path)
    warehouse = b.value(demo_db_path, "SELECT warehouse FROM return_notes WHERE return_no = ?",
                        [return_no])["warehouse"]
    before = [_balance(demo_db_path, warehouse, ln["sku"]) for ln in lines]
    b.sign_in(app, "warehouse")
    b.open_page(app, "pages/returns.py", no=return_no)
    app.button(key="receive").click().run()
    assert not app.exception
    app.segmented_control(key=f"disp_{lines[0]['sku']}").set_value("restock")
    app.segmented_control(key=f"disp_{lines[1]['sku']}").set_value("scrap")
    app.button(key="FormSubmitter:inspect-Record inspection and move stock").click().run()
    assert not app.exception
    assert b.value(demo_db_path, "SELECT status FROM return_notes WHERE return_no = ?",
                   [return_no])["status"] == "inspected"   # the refund is still owed
    shown = b.table_with(app, "disposition")
    assert dict(zip(shown["sku"], shown["disposition"])) == {lines[0]["sku"]: "Restock", lines[1]["sku"]: "Scrap"}
    assert not raw_names(app)   # issue #16: the inspected lines in words
    after = [_balance(demo_db_path, warehouse, ln["sku"]) for ln in lines]
    assert after[0]["on_hand"] == before[0]["on_hand"] + 2
    assert after[1] == before[1]
    b.assert_consistent(demo_db_path)


# --- refunds ---------------------------------------------------------------------------------------------

def test_finance_marks_a_refund_paid_only_with_a_reference(app, demo_db_path):
    order_no = b.order(demo_db_path, paid=True)
    voids.void_order(b.handle(demo_db_path), b.user(demo_db_path, "ops"), order_no, "customer_cancelled")
    b.sign_in(app, "finance")
    b.open_page(app, "pages/refunds.py")
    b.select_row(app, "refund_table", "order_no", order_no)
    assert any(h.value.startswith("Pay out") and md_escape(order_no) in h.value for h in app.subheader)
    app.button(key="FormSubmitter:pay-Mark paid out").click().run()
    assert "A payment reference is required to mark a refund paid out." in b.messages(app.error)
    app.text_input(key="refund_payment_ref").input("BANK-4711")
    app.button(key="FormSubmitter:pay-Mark paid out").click().run()
    assert not app.exception
    assert f"Refund for {md_escape(order_no)} marked paid out." in b.messages(app.success)
    assert not [f for f in app.get("form") if f.form_id == "pay"]   # nothing selected after paying
    app.segmented_control(key="refund_status").set_value("paid").run()
    paid = b.table_with(app, "payment_ref")
    assert paid.loc[paid["order_no"] == order_no, "payment_ref"].tolist() == ["BANK-4711"]
    assert b.value(demo_db_path, "SELECT payment_status FROM orders WHERE order_no = ?",
                   [order_no])["payment_status"] == "refunded"
    b.assert_consistent(demo_db_path)


def test_a_refund_notification_opens_that_refund_and_the_queue_filters_and_sorts(app, demo_db_path):
    order_no = b.order(demo_db_path, paid=True)
    voids.void_order(b.handle(demo_db_path), b.user(demo_db_path, "ops"), order_no, "customer_cancelled")
    b.sign_in(app, "finance")
    b.open_page(app, "pages/inbox.py")
    links = [p.proto for p in app.get("page_link") if p.proto.label == "Open the refund"]
    assert any(f"order_no={order_no}" in p.query_string and "status=pending" in p.query_string for p in links)
    b.open_page(app, "pages/refunds.py", order_no=order_no, status="pending")   # where the link goes
    assert any(h.value.startswith("Pay out") and md_escape(order_no) in h.value for h in app.subheader)   # opened
    queue = b.table_with(app, "amount")
    assert queue["order_no"].tolist() == [order_no]
    app.text_input(key="refund_order_no").input("").run()
    app.text_input(key="refund_min").input("abc").run()
    assert "abc is not an amount." in b.messages(app.error)
    app.text_input(key="refund_min").input("").run()
    app.selectbox(key="refund_sort").set_value("newest").run()
    newest = b.table_with(app, "amount")
    assert newest["created_at"].is_monotonic_decreasing and newest["order_no"].iloc[0] == order_no
    customer = b.value(demo_db_path, "SELECT c.name FROM orders o JOIN customers c ON c.id = o.customer_id"
                                     " WHERE o.order_no = ?", [order_no])["name"]
    app.text_input(key="refund_customer").input(customer[2:8]).run()
    assert order_no in b.table_with(app, "amount")["order_no"].tolist()


# --- stock -----------------------------------------------------------------------------------------------

def test_stock_levels_filter_low_toggle_and_one_skus_ledger(app, demo_db_path):
    sku = b.value(demo_db_path, "SELECT sku FROM stock_balances ORDER BY sku LIMIT 1")["sku"]
    b.sign_in(app, "analyst")
    b.open_page(app, "pages/stock.py")
    assert not app.exception
    app.text_input(key="stock_sku").input(sku).run()
    levels = b.table_with(app, "on_hand")
    assert set(levels["sku"]) == {sku}
    assert app.text_input(key="ledger_sku").value == sku   # one SKU shown: its ledger opens
    ledger = b.table_with(app, "d_on_hand")
    assert len(ledger) > 0
    app.text_input(key="stock_sku").input("").run()
    app.toggle(key="stock_low").set_value(True).run()
    low = b.table_with(app, "on_hand")
    assert len(low) > 0 and low["low"].all()
    assert not [f for f in app.get("form") if f.form_id == "adjust"]   # analysts only read


def _adjust_form(at, warehouse: str, sku: str, delta: int, reason: str):
    [w for w in at.selectbox if w.form_id == "adjust" and w.label == "Warehouse"][0].set_value(warehouse)
    [w for w in at.text_input if w.form_id == "adjust" and w.label == "SKU"][0].input(sku)
    [w for w in at.number_input if w.form_id == "adjust" and w.label == "Change on hand (±)"][0].set_value(delta)
    [w for w in at.text_input if w.form_id == "adjust" and w.label == "Reason (required)"][0].input(reason)
    return at.button(key="FormSubmitter:adjust-Adjust stock").click().run()


def test_lead_adjusts_stock_with_a_reason_and_is_refused_without(app, demo_db_path):
    row = b.value(demo_db_path, "SELECT warehouse, sku FROM stock_balances ORDER BY sku DESC LIMIT 1")
    before = _balance(demo_db_path, row["warehouse"], row["sku"])
    b.sign_in(app, "lead")
    b.open_page(app, "pages/stock.py")
    _adjust_form(app, row["warehouse"], row["sku"], 4, "")
    assert "A stock adjustment needs a reason." in b.messages(app.error)
    assert _balance(demo_db_path, row["warehouse"], row["sku"]) == before
    _adjust_form(app, row["warehouse"], row["sku"], 4, "Found behind the shelf")
    assert not app.exception
    assert f"Stock of {md_escape(row['sku'])} in {md_escape(row['warehouse'])} adjusted." in b.messages(app.success)
    assert _balance(demo_db_path, row["warehouse"], row["sku"])["on_hand"] == before["on_hand"] + 4
    b.assert_consistent(demo_db_path)


# --- inbox and audit -------------------------------------------------------------------------------------

def test_inbox_marks_one_read_then_all_read(app, demo_db_path):
    for _ in range(2):   # two voids of sales2's orders: two notifications for sales2
        order_no = b.order(demo_db_path, rep="sales2")
        voids.void_order(b.handle(demo_db_path), b.user(demo_db_path, "ops"), order_no, "customer_cancelled")
    unread = "SELECT count(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id" \
             " WHERE u.username = 'sales2' AND n.read_at IS NULL"
    newest = b.value(demo_db_path, "SELECT n.id FROM notifications n JOIN users u ON u.id = n.user_id"
                                   " WHERE u.username = 'sales2' AND n.order_no = ?", [order_no])["id"]
    b.sign_in(app, "sales2")
    b.open_page(app, "pages/inbox.py")
    shown = md_escape(order_no) + " was voided (Customer cancelled)"   # as md_escape leaves it; code → words
    assert any(shown in m.value for m in app.markdown)
    count = b.value(demo_db_path, unread)["n"]
    app.button(key=f"read_{newest}").click().run()
    assert not app.exception
    assert b.value(demo_db_path, unread)["n"] == count - 1
    assert not [btn for btn in app.button if btn.key == f"read_{newest}"]
    app.button(key="inbox_all").click().run()
    assert b.value(demo_db_path, unread)["n"] == 0
    assert not [btn for btn in app.button if (btn.key or "").startswith("read_")]
    app.toggle(key="inbox_unread_only").set_value(True).run()
    assert "Nothing here." in b.messages(app.info)
    b.assert_consistent(demo_db_path)


def test_audit_log_filters_and_prepares_an_export(app, demo_db_path):
    _order_no, _return_no, _lines = _return(demo_db_path)
    b.sign_in(app, "lead")
    b.open_page(app, "pages/audit.py")
    app.text_input(key="audit_actor").input("ops")
    app.selectbox(key="audit_action").set_value("return.create").run()
    assert not app.exception
    entries = b.table_with(app, "action")
    assert len(entries) > 0 and set(entries["action"]) == {"Return created"}   # in words, not a code
    after = entries["after"].iloc[0]                     # in words, not the JSON kept
    assert "Refund: ¥" in after and "Status: Requested" in after and " × 2" in after and "{" not in after, after
    app.selectbox(key="audit_action").set_value("return.").run()   # every return action
    assert set(b.table_with(app, "action")["action"]) <= {"Return created", "Return received", "Return inspected",
                                                          "Return closed"}
    assert set(entries["actor_name"].str.lower()) == {"ops"}
    app.button(key="audit_export").click().run()
    assert not app.exception
    assert [d for d in app.get("download_button")], "the CSV download appears"


# --- who may see what ------------------------------------------------------------------------------------

REFUSED = {
    "ops": ["pages/refunds.py", "pages/approvals.py", "pages/audit.py"],
    "sales": ["pages/returns.py", "pages/stock.py", "pages/refunds.py", "pages/approvals.py", "pages/audit.py"],
    "warehouse": ["pages/refunds.py", "pages/approvals.py", "pages/audit.py"],
    "analyst": ["pages/refunds.py", "pages/approvals.py", "pages/audit.py"],
    "finance": ["pages/approvals.py", "pages/audit.py"],
}


@pytest.mark.parametrize("username", REFUSED)
def test_pages_refuse_roles_that_may_not_see_them(app, demo_db_path, username):
    b.sign_in(app, username)
    _user, token = auth.login(b.handle(demo_db_path), username, "demo1234")
    for page in REFUSED[username]:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(page)   # not in this role's navigation
        # …and the page itself refuses when run directly (Streamlit's pages-folder fallback).
        direct = AppTest.from_file(str(ROOT / page), default_timeout=30)
        direct.session_state["token"] = token
        direct.run()
        assert not direct.exception
        errors = b.messages(direct.error)
        assert len(errors) == 1 and errors[0].startswith("Only "), (page, errors)
        assert not direct.dataframe, page


def test_admin_sees_the_mail_outbox_and_others_are_refused(app):
    b.sign_in(app, "admin")   # in English, whatever another test left this user in
    app.switch_page("pages/outbox.py").run()
    assert not app.exception
    assert app.title[0].value == "Mail outbox"
    assert ("SMTP is not configured: notifications stay in the in-app inbox and their mail waits here;"
            " nothing is lost.") in [c.value for c in app.caption]
