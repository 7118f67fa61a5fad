"""The order page through AppTest: every status step, refusals on disabled actions, assignment with its
notification, comments as text, a sales rep's scope, and clicks made on a page that went stale (issue 3).
Each mutating test makes its own order, so the tests stay independent of each other and of the seed."""
from lib.db import open_database, rows_as_dicts
from lib.services import collab, orders
from lib.services.auth import user_from_row
from lib.services.orders import LineInput, create_order
from lib.ui.context import md_escape
from tests.app.test_search_page import open_as, rows


def _user(path, username: str):
    with open_database(str(path)).read() as cur:
        return user_from_row(rows_as_dicts(cur, "SELECT * FROM users WHERE username = ?", [username])[0])


def _new_order(path, rep: str | None = None) -> str:
    """A pending order of one line, made by `ops` through the service (for `rep` when given)."""
    customer, wh, sku = rows(path, "SELECT (SELECT code FROM customers ORDER BY id LIMIT 1), b.warehouse, b.sku"
                                   " FROM stock_balances b JOIN products p USING (sku)"
                                   " WHERE p.active AND b.on_hand - b.reserved > 3 ORDER BY b.sku LIMIT 1")[0]
    return create_order(open_database(str(path)), _user(path, "ops"), customer, wh, [LineInput(sku, 1)],
                        rep=rep)["order_no"]


def _status(path, order_no: str) -> str:
    return rows(path, "SELECT status FROM orders WHERE order_no = ?", [order_no])[0][0]


def _timeline(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_ops_steps_an_order_from_pending_to_archived(app, demo_db_path):
    order_no = _new_order(demo_db_path)
    open_as(app, demo_db_path, "ops", "pages/order.py", no=order_no)
    app.text_input(key="step_note").input("picked by the morning shift")
    for label, status in (("Start processing", "processing"), ("Mark shipped (consumes stock)", "shipped"),
                          ("Mark completed", "completed")):
        assert app.button(key="step").label == label
        app.button(key="step").click().run()
        assert not app.exception, app.exception
        assert [s.value for s in app.success] == [f"Order {md_escape(order_no)} is now {status.title()}."]
        assert _status(demo_db_path, order_no) == status
    app.button(key="archive").click().run()
    assert not app.exception, app.exception
    assert [s.value for s in app.success] == [f"Order {md_escape(order_no)} archived."]
    assert _status(demo_db_path, order_no) == "archived"

    timeline = _timeline(app)
    for before, after in (("Pending", "Processing"), ("Processing", "Shipped"), ("Shipped", "Completed"),
                          ("Completed", "Archived")):
        assert f"Status changed from {before} to {after}" in timeline
    notes = rows(demo_db_path, "SELECT h.note FROM order_status_history h JOIN orders o ON o.id = h.order_id"
                               " WHERE o.order_no = ? AND h.from_status IS NOT NULL ORDER BY h.id", [order_no])
    assert [n for (n,) in notes] == ["picked by the morning shift", None, None, None]  # a note is for one step
    assert "picked by the morning shift" in [t.value for t in app.text]


def test_an_archived_order_offers_nothing_and_says_why(app, demo_db_path):
    order_no = _new_order(demo_db_path)
    ops = _user(demo_db_path, "ops")
    for status in ("processing", "shipped", "completed", "archived"):
        orders.change_status(open_database(str(demo_db_path)), ops, order_no, status)
    open_as(app, demo_db_path, "ops", "pages/order.py", no=order_no)
    why = "Not possible while the order is Archived."
    assert (app.button(key="step").disabled, app.button(key="step").help) == (True, why)
    assert (app.button(key="archive").disabled, app.button(key="archive").help) == (True, why)
    for form in ("assign", "comment"):
        submit = next(b for b in app.button if b.key.startswith(f"FormSubmitter:{form}-"))
        assert (submit.disabled, submit.help) == (True, why)
    assert app.button(key="copy").disabled is False  # an archived order can still be copied


def test_a_pending_order_cannot_be_archived_yet(app, demo_db_path):
    order_no = _new_order(demo_db_path)
    open_as(app, demo_db_path, "ops", "pages/order.py", no=order_no)
    archive = app.button(key="archive")
    assert (archive.disabled, archive.help) == (True, "Not possible while the order is Pending.")


def test_a_sales_rep_opens_their_own_order_but_may_not_change_its_status(app, demo_db_path):
    own = _new_order(demo_db_path, rep="sales")
    other = _new_order(demo_db_path, rep="sales2")
    open_as(app, demo_db_path, "sales", "pages/order.py", no=own)
    assert app.title[0].value == f"Order {md_escape(own)}"
    step = app.button(key="step")
    assert step.disabled
    assert step.help == "Only operations staff, operations leads and administrators can change an order's status."
    assert next(b for b in app.button if b.key.startswith("FormSubmitter:comment-")).disabled is False

    app.query_params["no"] = other
    app.run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [f"Order {md_escape(other)} was not found."]
    assert not {"step", "archive", "copy"} & {b.key for b in app.button}  # nothing of that order is offered


def test_assign_then_reassign_notifies_and_shows_on_the_timeline(app, demo_db_path):
    order_no = _new_order(demo_db_path)
    names = dict(rows(demo_db_path, "SELECT username, display_name FROM users WHERE username IN ('ops2', 'warehouse')"))
    open_as(app, demo_db_path, "ops", "pages/order.py", no=order_no)
    for username, role in (("ops2", "Operations"), ("warehouse", "Warehouse")):
        _assign_box(app).set_value(username)
        app.button(key="FormSubmitter:assign-Assign").click().run()
        assert not app.exception, app.exception
        assert [s.value for s in app.success] == [f"Assigned to {names[username]} · {role}; they have been notified."]
    assert f"Assigned to {names['ops2']}" in _timeline(app)
    assert f"Reassigned from {names['ops2']} to {names['warehouse']}" in _timeline(app)
    assert rows(demo_db_path, "SELECT u.username FROM orders o JOIN users u ON u.id = o.assignee_id"
                              " WHERE o.order_no = ?", [order_no]) == [("warehouse",)]
    told = rows(demo_db_path, "SELECT u.username, n.kind FROM notifications n JOIN users u ON u.id = n.user_id"
                              " WHERE n.order_no = ? ORDER BY n.id", [order_no])
    assert told == [("ops2", "order.assigned"), ("warehouse", "order.assigned")]


def _assign_box(app):
    return next(s for s in app.selectbox if s.label == "Assign to")


def test_a_comment_with_markup_is_shown_as_plain_text(app, demo_db_path):
    order_no = _new_order(demo_db_path, rep="sales")
    body = "**urgent** <img src=x onerror=alert(1)> [call](javascript:alert(2))"
    open_as(app, demo_db_path, "lead", "pages/order.py", no=order_no)
    app.text_area[0].input(body)
    app.button(key="FormSubmitter:comment-Add comment").click().run()
    assert not app.exception, app.exception
    assert [s.value for s in app.success] == ["Comment added."]
    assert body in [t.value for t in app.text]
    assert not any("<img" in m.value or "](javascript" in m.value for m in app.markdown)
    assert rows(demo_db_path, "SELECT u.username, n.kind FROM notifications n JOIN users u ON u.id = n.user_id"
                              " WHERE n.order_no = ? AND n.kind = 'order.commented'", [order_no]) == [
        ("sales", "order.commented")]


def test_a_step_clicked_on_a_stale_page_changes_nothing(app, demo_db_path):
    order_no = _new_order(demo_db_path)
    open_as(app, demo_db_path, "ops", "pages/order.py", no=order_no)
    assert app.button(key="step").label == "Start processing"
    orders.change_status(open_database(str(demo_db_path)), _user(demo_db_path, "lead"), order_no, "processing")
    app.button(key="step").click().run()  # meant "start processing", which someone else has just done
    assert not app.exception, app.exception
    assert _status(demo_db_path, order_no) == "processing"  # not shipped
    assert [w.value for w in app.warning] == [f"Order {md_escape(order_no)} was changed by someone else in the"
                                              " meantime. Nothing was saved; here is its current state."]
    assert app.button(key="step").label == "Mark shipped (consumes stock)"


def test_an_assignment_sent_from_a_stale_page_is_refused(app, demo_db_path):
    order_no = _new_order(demo_db_path)
    open_as(app, demo_db_path, "ops", "pages/order.py", no=order_no)
    collab.assign(open_database(str(demo_db_path)), _user(demo_db_path, "lead"), order_no, "ops")
    _assign_box(app).set_value("ops2")
    app.button(key="FormSubmitter:assign-Assign").click().run()
    assert not app.exception, app.exception
    assert [w.value for w in app.warning] == [f"Order {md_escape(order_no)} was changed by someone else in the"
                                              " meantime. Nothing was saved; here is its current state."]
    assert rows(demo_db_path, "SELECT u.username FROM orders o JOIN users u ON u.id = o.assignee_id"
                              " WHERE o.order_no = ?", [order_no]) == [("ops",)]
