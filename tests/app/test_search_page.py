"""The search page through AppTest: every filter of SPEC §3 against an independent SQL count, paging,
sorting and a sales rep's own-orders scope (issue 3)."""
from datetime import timedelta

import pytest

from lib import clock
from lib.db import open_database
from lib.services import auth

PAGE = 50
_tokens: dict[tuple[str, str], str] = {}


def open_as(app, path, username: str, script: str = "pages/search.py", **params):
    """Sign `username` in by session token (one password check per user and run) and open `script`
    with `params` as URL query parameters."""
    key = (str(path), username)
    if key not in _tokens:
        _tokens[key] = auth.login(open_database(str(path)), username, "demo1234")[1]
    app.session_state["token"] = _tokens[key]
    app.run()
    # The language is remembered per user in the shared database (another test may have chosen 中文).
    app.session_state["lang"] = "en"
    app.query_params.update(params)
    app.switch_page(script).run()
    assert not app.exception, app.exception
    return app


def rows(path, sql: str, params=()) -> list[tuple]:
    # The app under test holds the file open in this process: share its handle.
    with open_database(str(path)).read() as cur:
        return cur.execute(sql, list(params)).fetchall()


def count(path, where: str, params=()) -> int:
    return rows(path, f"SELECT count(*) FROM orders o WHERE {where}", params)[0][0]


def shown_total(app) -> int:
    metric = next(m for m in app.metric if m.label == "Matching orders")
    return int(metric.value.replace(",", ""))


def shown_numbers(app) -> list[str]:
    return app.dataframe(key="results").value["order_no"].tolist()


def _line_match(sql: str) -> str:
    return ("EXISTS (SELECT 1 FROM order_lines l JOIN products p ON p.sku = l.sku"
            f" WHERE l.order_id = o.id AND ({sql}))")


def _user_in(column: str, names: list[str]) -> str:
    return f"{column} IN (SELECT id FROM users WHERE username IN ({', '.join(repr(n) for n in names)}))"


# widget key, value typed or chosen, the same filter written independently in SQL
WIDGET_FILTERS = [
    pytest.param("f_customer", "kINGSWAY", "o.customer_id IN (SELECT id FROM customers WHERE name ILIKE ?)",
                 ["%kingsway%"], id="customer-contains-any-case"),
    pytest.param("f_statuses", ["voided", "shipped"], "o.status IN ('voided', 'shipped')", [], id="status"),
    pytest.param("f_payment", ["partially_refunded", "refunded"],
                 "o.payment_status IN ('partially_refunded', 'refunded')", [], id="payment"),
    pytest.param("f_product", "elc-0001", _line_match("p.sku ILIKE ? OR p.name ILIKE ?"),
                 ["ELC-0001%", "%elc-0001%"], id="product-sku"),
    pytest.param("f_product", "LAPTOP", _line_match("p.name ILIKE ?"), ["%laptop%"], id="product-name"),
    pytest.param("f_product", "智能手表", _line_match("p.name LIKE ?"), ["%智能手表%"], id="product-chinese-name"),
    pytest.param("f_category", ["phones", "toys"], _line_match("p.category IN ('phones', 'toys')"), [],
                 id="category"),
    pytest.param("f_rep", ["sales2", "sales3"], _user_in("o.rep_id", ["sales2", "sales3"]), [], id="rep"),
    pytest.param("f_assignee", ["ops2"], _user_in("o.assignee_id", ["ops2"]), [], id="assignee"),
    pytest.param("f_warehouse", ["GZ"], "o.warehouse = 'GZ'", [], id="warehouse"),
    pytest.param("f_min_total", 5000.0, "o.total >= 5000", [], id="min-total"),
    pytest.param("f_max_total", 500.0, "o.total <= 500", [], id="max-total"),
]


@pytest.mark.parametrize("key, value, where, params", WIDGET_FILTERS)
def test_each_filter_widget_counts_what_sql_counts(app, demo_db_path, key, value, where, params):
    expected = count(demo_db_path, where, params)
    assert 0 < expected < count(demo_db_path, "TRUE"), "the seed should make this filter meaningful"
    open_as(app, demo_db_path, "lead")
    widget = app.text_input(key=key) if key in ("f_customer", "f_product") else (
        app.number_input(key=key) if key.endswith("_total") else app.multiselect(key=key))
    (widget.input(value) if key in ("f_customer", "f_product") else widget.set_value(value)).run()
    assert not app.exception, app.exception
    assert shown_total(app) == expected
    assert len(shown_numbers(app)) == min(expected, PAGE)


def test_number_filter_finds_the_exact_order(app, demo_db_path):
    number, customer = rows(demo_db_path, "SELECT o.order_no, c.name FROM orders o JOIN customers c"
                                          " ON c.id = o.customer_id ORDER BY o.id LIMIT 1 OFFSET 7")[0]
    open_as(app, demo_db_path, "lead")
    app.text_input(key="f_number").input(number).run()
    assert shown_total(app) == 1
    table = app.dataframe(key="results").value
    assert table["order_no"].tolist() == [number] and table["customer"].tolist() == [customer]
    assert app.query_params["number"] == number


def test_number_filter_takes_a_prefix(app, demo_db_path):
    prefix = rows(demo_db_path, "SELECT left(order_no, 12) FROM orders GROUP BY 1 HAVING count(*) > 3"
                                " ORDER BY 1 DESC LIMIT 1")[0][0]
    expected = count(demo_db_path, "o.order_no LIKE ?", [prefix + "%"])
    open_as(app, demo_db_path, "lead")
    app.text_input(key="f_number").input(prefix).run()
    assert shown_total(app) == expected
    assert all(n.startswith(prefix) for n in shown_numbers(app))


def test_date_range_includes_both_end_days(app, demo_db_path):
    start, end = clock.today() - timedelta(days=120), clock.today() - timedelta(days=60)
    expected = count(demo_db_path, "CAST(o.created_at AS DATE) BETWEEN ? AND ?", [start, end])
    assert expected > 0
    open_as(app, demo_db_path, "lead")
    app.date_input(key="f_date_from").set_value(start)
    app.date_input(key="f_date_to").set_value(end).run()
    assert not app.exception, app.exception
    assert shown_total(app) == expected
    assert (app.query_params["from"], app.query_params["to"]) == (start.isoformat(), end.isoformat())


def test_filters_from_the_url_combine(app, demo_db_path):
    where = ("o.status = 'completed' AND o.warehouse IN ('SH', 'BJ') AND o.total BETWEEN 1000 AND 20000"
             " AND " + _line_match("p.category = 'electronics'"))
    expected = count(demo_db_path, where)
    assert expected > 0
    open_as(app, demo_db_path, "lead", status="completed", warehouse=["SH", "BJ"], min_total="1000",
            max_total="20000", category="electronics")
    assert app.multiselect(key="f_warehouse").value == ["SH", "BJ"]
    assert app.number_input(key="f_min_total").value == 1000.0
    assert shown_total(app) == expected


def test_a_main_category_link_shows_its_filter_which_can_be_removed(app, demo_db_path):
    """Where an Explain category bar lands: the orders whose line of largest value (the first on a tie) is in it,
    counted here by a window over the lines, fewer than those with any line in it."""
    main = ("o.id IN (SELECT order_id FROM (SELECT l.order_id, p.category, row_number() OVER (PARTITION BY l.order_id"
            " ORDER BY l.qty * l.unit_price DESC, l.line_no) AS n FROM order_lines l LEFT JOIN products p"
            " ON p.sku = l.sku) m WHERE n = 1 AND category = 'electronics')")
    expected = count(demo_db_path, main)
    assert 0 < expected < count(demo_db_path, _line_match("p.category = 'electronics'"))
    open_as(app, demo_db_path, "lead", main_category="electronics")
    assert app.multiselect(key="f_main_category").value == ["electronics"]
    assert shown_total(app) == expected
    app.multiselect(key="f_main_category").set_value([]).run()
    assert shown_total(app) == count(demo_db_path, "TRUE") and "main_category" not in app.query_params


def test_page_two_shows_the_next_rows_and_the_url_carries_the_page(app, demo_db_path):
    newest = "SELECT order_no FROM orders ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
    first, second = rows(demo_db_path, newest, [PAGE, 0]), rows(demo_db_path, newest, [PAGE, PAGE])
    open_as(app, demo_db_path, "lead")
    assert shown_numbers(app) == [r[0] for r in first]
    app.pagination[0].select(2).run()
    assert not app.exception, app.exception
    assert shown_numbers(app) == [r[0] for r in second]
    assert app.query_params["page"] == "2"
    app.multiselect(key="f_warehouse").set_value(["GZ"]).run()  # new filters start at page 1 again
    assert "page" not in app.query_params
    assert app.pagination[0].value == 1


def test_a_bookmarked_page_opens_on_that_page(app, demo_db_path):
    expected = rows(demo_db_path, "SELECT order_no FROM orders WHERE warehouse = 'SH'"
                                  " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", [PAGE, 2 * PAGE])
    open_as(app, demo_db_path, "lead", warehouse="SH", page="3")
    assert shown_numbers(app) == [r[0] for r in expected]
    assert app.pagination[0].value == 3


@pytest.mark.parametrize("sort, order_by", [
    ("total:desc", "o.total DESC, o.id DESC"),
    ("customer", "c.name ASC, o.id ASC"),
], ids=["total-desc", "customer-asc"])
def test_sorting_orders_the_page_like_sql(app, demo_db_path, sort, order_by):
    expected = rows(demo_db_path, "SELECT o.order_no FROM orders o JOIN customers c ON c.id = o.customer_id"
                                  f" ORDER BY {order_by} LIMIT ?", [PAGE])
    open_as(app, demo_db_path, "lead")
    app.selectbox(key="sort").set_value(sort).run()
    assert not app.exception, app.exception
    assert shown_numbers(app) == [r[0] for r in expected]
    assert app.query_params["sort"] == sort


def test_a_sales_rep_finds_only_their_own_orders(app, demo_db_path):
    own = _user_in("o.rep_id", ["sales"])
    expected = count(demo_db_path, own)
    others = rows(demo_db_path, f"SELECT order_no FROM orders o WHERE NOT ({own}) AND rep_id IS NOT NULL LIMIT 1")
    open_as(app, demo_db_path, "sales", rep="sales2")  # a rep filter in the URL cannot widen the scope
    assert "f_rep" not in [w.key for w in app.multiselect]
    assert shown_total(app) == expected
    assert set(app.dataframe(key="results").value["rep"]) == {"sales"}
    app.text_input(key="f_number").input(others[0][0]).run()
    assert shown_total(app) == 0
