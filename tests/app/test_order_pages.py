"""Order pages wired end to end through AppTest on the demo database."""
from lib.db import open_database
from lib.ui.context import md_escape
from tests.app.conftest import sign_in


def _one(path, sql):
    # The app under test holds the file open in this process: share its handle.
    with open_database(str(path)).read() as cur:
        return cur.execute(sql).fetchall()[0]


def _fresh_order(path) -> str:
    """A new pending order made through the service, so tests don't depend on the seed's few pending ones."""
    from lib.services.auth import user_from_row
    from lib.db import rows_as_dicts
    from lib.services.orders import LineInput, create_order

    db = open_database(str(path))
    with db.read() as cur:
        ops = user_from_row(rows_as_dicts(cur, "SELECT * FROM users WHERE username = 'ops'")[0])
        customer, wh, sku = cur.execute(
            "SELECT (SELECT code FROM customers LIMIT 1), b.warehouse, b.sku FROM stock_balances b"
            " JOIN products p USING (sku) WHERE p.active AND b.on_hand - b.reserved > 3 LIMIT 1").fetchall()[0]
    return create_order(db, ops, customer, wh, [LineInput(sku, 1)])["order_no"]


def test_search_filters_by_url_params_and_counts(app, demo_db_path):
    voided = _one(demo_db_path, "SELECT count(*) FROM orders WHERE status = 'voided'")[0]
    sign_in(app, "lead")
    app.query_params["status"] = "voided"
    app.switch_page("pages/search.py").run()
    assert not app.exception
    assert app.multiselect(key="f_statuses").value == ["voided"]
    assert app.metric[0].value == f"{voided:,}"


def test_search_shows_a_refusal_for_a_bad_url_value(app):
    sign_in(app, "lead")
    app.query_params["status"] = "exploded"
    app.switch_page("pages/search.py").run()
    assert not app.exception
    assert any("Unknown status" in e.value for e in app.error)


def test_sales_cannot_open_another_reps_order_by_url(app, demo_db_path):
    other = _one(demo_db_path, "SELECT o.order_no FROM orders o JOIN users u ON u.id = o.rep_id"
                               " WHERE u.username <> 'sales' LIMIT 1")[0]
    sign_in(app, "sales")
    app.query_params["no"] = other
    app.switch_page("pages/order.py").run()
    assert not app.exception
    assert [e.value for e in app.error] == [f"Order {md_escape(other)} was not found."]


def test_ops_moves_a_pending_order_on_and_comments(app, demo_db_path):
    order_no = _fresh_order(demo_db_path)
    sign_in(app, "ops")
    app.query_params["no"] = order_no
    app.switch_page("pages/order.py").run()
    app.button(key="step").click().run()
    assert not app.exception
    assert any("is now Processing" in s.value for s in app.success)
    app.text_area[0].input("<b>not bold</b> [x](javascript:alert(1))")
    app.button(key="FormSubmitter:comment-Add comment").click().run()
    assert not app.exception
    assert "<b>not bold</b> [x](javascript:alert(1))" in [t.value for t in app.text]


def test_create_order_from_the_form_reserves_stock(app, demo_db_path):
    sku, wh, avail = _one(demo_db_path, "SELECT b.sku, b.warehouse, b.on_hand - b.reserved FROM stock_balances b"
                                        " JOIN products p USING (sku) WHERE p.active AND b.warehouse = 'BJ'"
                                        " AND b.on_hand - b.reserved > 5 ORDER BY b.sku LIMIT 1")
    sign_in(app, "sales")
    app.switch_page("pages/new_order.py").run()
    app.selectbox(key="new_order_wh").set_value(wh).run()
    app.selectbox(key="new_line_sku").set_value(sku)
    app.number_input(key="new_line_qty").set_value(2)
    app.button(key="FormSubmitter:add_line-Add line").click().run()
    assert not app.exception
    app.button(key="new_order_submit").click().run()
    assert not app.exception
    created = [s.value for s in app.success]
    assert created and "was created" in created[0]
