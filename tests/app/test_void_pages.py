"""Void pages through AppTest (issue 4): the void dialog, approvals, restore and the search page's batch void."""
from lib.services import voids
from lib.ui.context import md_escape
from tests.app import builders as b


def test_void_dialog_voids_the_order_after_review_and_confirmation(app, demo_db_path):
    order_no = b.order(demo_db_path, paid=True)
    total = b.value(demo_db_path, "SELECT total FROM orders WHERE order_no = ?", [order_no])["total"]
    b.sign_in(app, "ops")
    b.void_dialog(app, order_no, "customer_cancelled")
    assert [m.value for m in app.metric if m.label == "Refund owed"] == [f"¥{total:,.2f}"]   # the impact preview
    assert any(e.startswith(f"Void {md_escape(order_no)}? Reserved stock is released") for e in b.messages(app.error))
    assert any(i.startswith("No approval needed: the order is below the approval threshold")
               for i in b.messages(app.info))
    app.button(key="void_confirm").click().run()
    assert not app.exception
    assert f"Order {md_escape(order_no)} voided; refund owed ¥{total:,.2f}." in b.messages(app.success)
    assert b.order_status(demo_db_path, order_no) == "voided"
    assert "void_dialog" not in app.session_state
    b.assert_consistent(demo_db_path)


def test_void_dialog_refuses_other_without_a_note(app, demo_db_path):
    order_no = b.order(demo_db_path)
    b.sign_in(app, "ops")
    b.void_dialog(app, order_no, "other").button(key="void_confirm").click().run()
    assert not app.exception
    assert "The reason “Other” needs a note." in b.messages(app.error)
    assert b.order_status(demo_db_path, order_no) == "pending"
    assert app.session_state["void_dialog"] == order_no   # the dialog stays open for the note


def test_a_sales_reps_void_becomes_a_pending_request(app, demo_db_path):
    order_no = b.order(demo_db_path, rep="sales")
    b.sign_in(app, "sales")
    b.void_dialog(app, order_no, "order_error")
    assert any(w.startswith("Needs approval by an operations lead") for w in b.messages(app.warning))
    assert not [i for i in b.messages(app.info) if i.startswith("No approval needed")]
    # the confirmation speaks of a request: nothing happens until a lead approves
    assert any(e.startswith(f"Send a void request for {md_escape(order_no)}? Nothing changes until an operations"
                            " lead") for e in b.messages(app.error))
    assert not [e for e in b.messages(app.error) if "Reserved stock is released and a refund" in e]
    app.button(key="void_confirm").click().run()
    assert not app.exception
    assert f"Void request for {md_escape(order_no)} sent for approval." in b.messages(app.success)
    assert b.order_status(demo_db_path, order_no) == "pending"
    assert b.value(demo_db_path, "SELECT v.status FROM voids v JOIN orders o ON o.id = v.order_id"
                                 " WHERE o.order_no = ?", [order_no])["status"] == "pending_approval"
    b.assert_consistent(demo_db_path)


def _requested(path, *, by: str = "sales", big: bool = False) -> str:
    order_no = b.order(path, rep="sales", big=big)
    voids.void_order(b.handle(path), b.user(path, by), order_no, "customer_cancelled", "asked by phone")
    return order_no


def test_lead_approves_a_request_from_the_queue(app, demo_db_path):
    order_no = _requested(demo_db_path)
    b.sign_in(app, "lead")
    b.open_page(app, "pages/approvals.py")
    b.select_row(app, "queue", "order_no", order_no)
    assert f"Deciding the void of {md_escape(order_no)}" in [h.value for h in app.subheader]
    app.button(key="queue_approve").click().run()
    assert not app.exception
    assert f"Void of {md_escape(order_no)} approved and applied." in b.messages(app.success)
    assert not any(h.value.startswith("Deciding the void of") for h in app.subheader)  # nothing selected after
    assert b.order_status(demo_db_path, order_no) == "voided"
    b.assert_consistent(demo_db_path)


def test_lead_rejects_a_request_only_with_a_note(app, demo_db_path):
    order_no = _requested(demo_db_path)
    b.sign_in(app, "lead")
    b.open_page(app, "pages/approvals.py")
    b.select_row(app, "queue", "order_no", order_no)
    app.button(key="queue_reject").click().run()
    assert "Say why the request is rejected: a note is required." in b.messages(app.error)
    app.text_input(key=f"approval_note_{order_no}").input("Customer paid after all")
    app.button(key="queue_reject").click().run()
    assert not app.exception
    assert f"Void request for {md_escape(order_no)} rejected." in b.messages(app.success)
    assert b.order_status(demo_db_path, order_no) == "pending"
    assert all(order_no not in set(df.value.get("order_no", [])) for df in app.dataframe)
    assert f"Deciding the void of {md_escape(order_no)}" not in [h.value for h in app.subheader]
    b.assert_consistent(demo_db_path)


def _select_rows(app, order_nos: list[str]):
    table = next(df.value for df in app.dataframe if "order_no" in df.value.columns)
    rows = [list(table["order_no"]).index(n) for n in order_nos]
    app.session_state["queue"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return app.run()


def test_lead_approves_several_requests_at_once_and_sees_what_stayed_open(app, demo_db_path):
    theirs = [_requested(demo_db_path), _requested(demo_db_path)]
    mine = _requested(demo_db_path, by="lead", big=True)
    b.sign_in(app, "lead")
    b.open_page(app, "pages/approvals.py")
    _select_rows(app, theirs + [mine])
    assert "Deciding 3 void requests together" in [h.value for h in app.subheader]
    app.button(key="queue_approve_many").click().run()
    assert not app.exception
    assert "2 approved and voided, 0 rejected." in b.messages(app.success)
    [left_open] = b.messages(app.warning)
    left_open = left_open.replace("\\", "")    # Markdown escapes, as the browser shows it
    assert left_open.startswith("1 left open:") and mine in left_open and "yourself" in left_open
    assert [b.order_status(demo_db_path, n) for n in theirs + [mine]] == ["voided", "voided", "pending"]
    assert not any(h.value.startswith("Deciding") for h in app.subheader)   # nothing selected afterwards
    b.assert_consistent(demo_db_path)


def test_when_the_queue_changes_under_a_selection_nothing_is_decided_and_it_is_chosen_again(app, demo_db_path):
    first, b_no, c_no, d_no = (_requested(demo_db_path) for _ in range(4))
    b.sign_in(app, "lead")
    b.open_page(app, "pages/approvals.py")
    _select_rows(app, [b_no, c_no])
    assert "Deciding 2 void requests together" in [h.value for h in app.subheader]
    voids.reject(b.handle(demo_db_path), b.user(demo_db_path, "admin"), first, "duplicate")   # another lead, meanwhile
    app.button(key="queue_approve_many").click().run()
    assert not app.exception
    assert any("The queue changed while you were choosing" in m for m in b.messages(app.info))
    assert not any(h.value.startswith("Deciding") for h in app.subheader)
    assert [b.order_status(demo_db_path, n) for n in (b_no, c_no, d_no)] == ["pending"] * 3
    with b.handle(demo_db_path).read() as cur:
        waiting = cur.execute("SELECT count(*) FROM voids WHERE status = 'pending_approval'"
                              " AND list_contains(?, order_no)", [[b_no, c_no, d_no]]).fetchall()[0][0]
    assert waiting == 3


def test_rejecting_several_needs_a_note_in_chinese_too(app, demo_db_path):
    numbers = [_requested(demo_db_path), _requested(demo_db_path)]
    b.sign_in(app, "lead")
    app.session_state["lang"] = "zh"
    b.open_page(app, "pages/approvals.py")
    _select_rows(app, numbers)
    assert "批量审批 2 个作废申请" in [h.value for h in app.subheader]
    app.button(key="queue_reject_many").click().run()
    assert not app.exception and b.messages(app.error)
    assert [b.order_status(demo_db_path, n) for n in numbers] == ["pending", "pending"]
    app.text_input(key="approval_note_many").input("重复申请").run()
    app.button(key="queue_reject_many").click().run()
    assert "已批准并作废 0 个，驳回 2 个。" in b.messages(app.success)
    with b.handle(demo_db_path).read() as cur:
        statuses = cur.execute("SELECT status FROM voids WHERE list_contains(?, order_no)", [numbers]).fetchall()
    assert statuses == [("rejected",), ("rejected",)]
    b.assert_consistent(demo_db_path)


def test_requester_cannot_decide_their_own_request_but_another_lead_can(app, demo_db_path):
    order_no = _requested(demo_db_path, by="lead", big=True)   # above the threshold: even a lead asks
    b.sign_in(app, "lead")
    b.open_page(app, "pages/approvals.py")
    b.select_row(app, "queue", "order_no", order_no)
    app.button(key="queue_approve").click().run()
    assert not app.exception
    assert any("yourself; another operations lead or an administrator must decide it" in e
               for e in b.messages(app.error))
    assert b.order_status(demo_db_path, order_no) == "pending"

    admin = b.sign_in(b.another_app(), "admin")
    b.open_page(admin, "pages/order.py", no=order_no)
    admin.text_input(key="decision_note").input("Checked with the customer")
    admin.button(key="approve").click().run()
    assert not admin.exception
    assert f"Void of {md_escape(order_no)} approved and applied." in b.messages(admin.success)
    assert b.order_status(demo_db_path, order_no) == "voided"
    b.assert_consistent(demo_db_path)


def test_lead_restores_a_voided_order_from_the_order_page(app, demo_db_path):
    order_no = b.order(demo_db_path, status="processing", paid=True)
    voids.void_order(b.handle(demo_db_path), b.user(demo_db_path, "lead"), order_no, "out_of_stock")
    b.sign_in(app, "lead")
    b.open_page(app, "pages/order.py", no=order_no)
    app.button(key="restore").click().run()
    assert "Say why the void is undone: a note is required." in b.messages(app.error)
    app.text_input(key="restore_note").input("Stock arrived after all")
    app.button(key="restore").click().run()
    assert not app.exception
    assert f"Order {md_escape(order_no)} restored; its stock is reserved again." in b.messages(app.success)
    assert b.order_status(demo_db_path, order_no) == "processing"
    b.assert_consistent(demo_db_path)


def _batch_preview(at, order_nos: list[str], reason: str):
    b.open_page(at, "pages/search.py")
    table = b.table_with(at, "order_no")
    at.session_state["results"] = {"selection": {"rows": [list(table["order_no"]).index(n) for n in order_nos],
                                                 "columns": [], "cells": []}}
    at.run()
    at.selectbox(key="batch_reason").set_value(reason).run()
    return at.button(key="batch_preview_button").click().run()


def test_batch_void_from_search_previews_then_voids_each_order(app, demo_db_path):
    order_nos = [b.order(demo_db_path), b.order(demo_db_path, status="processing", paid=True)]
    b.sign_in(app, "ops")
    _batch_preview(app, order_nos, "order_error")
    assert not app.exception
    preview = b.table_with(app, "outcome")
    assert list(preview["order_no"]) == order_nos
    assert set(preview["outcome"]) == {"Will be voided"}
    app.button(key="batch_confirm").click().run()
    assert not app.exception
    assert "2 voided, 0 sent for approval, 0 refused." in b.messages(app.success)
    results = b.table_with(app, "message")
    assert list(results["outcome"]) == ["Voided", "Voided"]
    assert [b.order_status(demo_db_path, n) for n in order_nos] == ["voided", "voided"]
    b.assert_consistent(demo_db_path)


def test_batch_void_applies_nothing_when_an_order_changed_after_the_preview(app, demo_db_path):
    from lib.services.orders import change_status

    order_nos = [b.order(demo_db_path), b.order(demo_db_path)]
    b.sign_in(app, "ops")
    _batch_preview(app, order_nos, "order_error")
    change_status(b.handle(demo_db_path), b.user(demo_db_path, "lead"), order_nos[1], "processing")
    app.button(key="batch_confirm").click().run()
    assert not app.exception
    assert (f"Order {md_escape(order_nos[1])} changed after the preview. Nothing was applied; preview the batch again."
            in b.messages(app.error))
    assert [b.order_status(demo_db_path, n) for n in order_nos] == ["pending", "processing"]
    b.assert_consistent(demo_db_path)
