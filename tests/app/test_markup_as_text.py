"""Markdown and HTML in URL values and stored text are shown as text (issue #16, finding 3): no bold, link or image
made of them in any message, title, caption, label or tooltip; on a database of its own, whose names, labels and
order number are the payload."""
import pytest
from streamlit.testing.v1 import AppTest

from lib import clock
from lib.imports import propose, read_bytes, run_import
from lib.services import collab, voids
from lib.services.reasons import add_reason
from lib.services.users import add_user
from lib.ui.context import md_escape
from tests.app import builders as b
from tests.app.conftest import APP, app_on, seeded
from tests.app.conftest import sign_in as sign_in_form

PAYLOAD = "**bold** [link](http://evil.example) ![img](http://evil.example/t.png) <b>x</b>"
ORDER_NO = "INJ-**b**[phish](http://evil.example)"   # an imported order keeps its number, whatever it is
# What the payload would render as if it reached Markdown unescaped: md_escape puts a backslash inside each, or an
# invisible word joiner after "http:" (Streamlit links a bare URL whatever the backslashes around it).
LIVE = ("**bold**", "**b**", "[link](", "[phish](", "![img](", "<b>", "://evil")
PASSWORD = "Md-payload-2026"
# Streamlit renders these proto fields as Markdown; st.text, st.code, st.html and table cells are left out.
MARKDOWN_FIELDS = ("body", "label", "help", "title", "text", "delta_description")
LITERAL_ELEMENTS = ("text", "code", "html", "json")


@pytest.fixture(scope="module")
def md_db(tmp_path_factory):
    """A small demo database plus a lead and a sales rep named PAYLOAD, a void reason labelled PAYLOAD, a customer
    named PAYLOAD and an imported order ORDER_NO of that rep and customer, assigned to the lead, with the rep's
    void request (reason PAYLOAD, note PAYLOAD) waiting for approval."""
    path = seeded(tmp_path_factory.mktemp("markup") / "demo.duckdb", orders=30, seed=5)
    db, admin = b.handle(path), b.user(path, "admin")
    add_user(db, admin, "mdlead", "ops_lead", PASSWORD, display_name=PAYLOAD)
    add_user(db, admin, "mdrep", "sales", PASSWORD, display_name=PAYLOAD)
    add_reason(db, admin, "void", "md_payload", PAYLOAD, PAYLOAD)
    stock = b.value(path, "SELECT b.warehouse, b.sku FROM stock_balances b JOIN products p USING (sku)"
                          " WHERE p.active AND b.on_hand - b.reserved > 5 ORDER BY b.sku LIMIT 1")
    for kind, text in (("customers", f"customer_code,customer_name\nMD-1,{PAYLOAD}\n"),
                       ("orders", "order_no,customer_code,created_at,status,warehouse,sku,qty,unit_price,rep\n"
                                  f"{ORDER_NO},MD-1,{clock.today():%Y-%m-%d} 09:00,pending,{stock['warehouse']},"
                                  f"{stock['sku']},1,10.00,mdrep\n")):
        source = read_bytes(f"{kind}.csv", text.encode())
        assert run_import(db, admin, source, propose(kind, source)).ok
    collab.assign(db, b.user(path, "lead"), ORDER_NO, "mdlead")
    assert voids.void_order(db, b.user(path, "mdrep"), ORDER_NO, "md_payload", PAYLOAD)["outcome"] == "pending_approval"
    return path


@pytest.fixture(scope="module")
def at(md_db):
    """One session for the whole module, signed in as the lead named PAYLOAD (each test opens its own page)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOIDDESK_DB", str(md_db))
        app = AppTest.from_file(APP, default_timeout=60)
        app.run()
        sign_in_form(app, "mdlead", PASSWORD)
        assert not app.exception, app.exception
        yield app


def markdown_texts(app) -> list[str]:
    """Every text on the page that Streamlit renders as Markdown: the bodies of markdown, captions, titles and
    alerts, and the labels and help of every element, widget and container, sidebar included."""
    found = []

    def walk(message) -> None:
        for field, value in message.ListFields():
            if field.type == field.TYPE_MESSAGE:
                for item in [value] if hasattr(value, "ListFields") else value:
                    walk(item)
            elif field.name in MARKDOWN_FIELDS and isinstance(value, str):
                found.append(value)

    for node in app:
        if getattr(node, "proto", None) is not None and getattr(node, "type", "") not in LITERAL_ELEMENTS:
            walk(node.proto)
    return found


def assert_shown_as_text(app, words: str) -> None:
    """`words` (a piece of the payload) is on the page, escaped; nothing of the payload is live Markdown."""
    assert not app.exception, app.exception
    texts = markdown_texts(app)
    live = [t for t in texts if any(mark in t for mark in LIVE)]
    assert not live, live
    assert any(md_escape(words) in t for t in texts), texts


# Every URL value the pages quote back in a refusal (order and return numbers, search filters, dashboard filters).
URL_CASES = [("pages/order.py", "no"), ("pages/returns.py", "no"),
             ("pages/search.py", "min_total"), ("pages/search.py", "from"), ("pages/search.py", "status"),
             ("pages/void_dashboard.py", "from"), ("pages/void_dashboard.py", "grain"),
             ("pages/returns_dashboard.py", "basis"), ("pages/explore.py", "from")]


@pytest.mark.parametrize("page, param", URL_CASES, ids=[f"{p[6:-3]}-{q}" for p, q in URL_CASES])
def test_a_url_value_quoted_in_a_refusal_is_shown_as_text(at, page, param):
    b.open_page(at, page, **{param: PAYLOAD})
    assert at.error or at.warning
    assert_shown_as_text(at, "[link](http://evil.example)")


def test_the_home_page_and_the_sidebar_name_the_user_as_text(md_db, monkeypatch):
    app = app_on(md_db, monkeypatch)   # signing in runs app.py: the home page with the sidebar (a page alone has none)
    sign_in_form(app, "mdlead", PASSWORD)
    said = md_escape(PAYLOAD)
    assert app.title[0].value == f"Good to see you, {said}"
    assert f"Signed in as {said} · Operations lead" in b.messages(app.caption)
    assert_shown_as_text(app, PAYLOAD)


def test_the_order_page_shows_its_stored_names_labels_and_number_as_text(at):
    b.open_page(at, "pages/order.py", no=ORDER_NO)
    assert_shown_as_text(at, PAYLOAD)
    said = md_escape(PAYLOAD)
    assert at.title[0].value == f"Order {md_escape(ORDER_NO)}"
    assert b.messages(at.info) == [f"Void requested ({said}) by {said}; waiting for an operations lead."]
    assert f"Sales rep: {said} · Assignee: {said}" in " ".join(b.messages(at.caption))
    assert f"{said} · MD-1" in " ".join(b.messages(at.markdown))   # the customer's name and code
    assert PAYLOAD in [t.value for t in at.text]   # the request's note: st.text shows it literally, as it is


def test_the_inbox_links_an_imported_order_number_as_text(at):
    b.open_page(at, "pages/inbox.py")
    assert_shown_as_text(at, ORDER_NO)
    assert "Open the order" in [link.label for link in at.get("page_link")]   # the number is in the message
    assert any(md_escape(ORDER_NO) in m for m in b.messages(at.markdown))


def test_the_approvals_page_names_the_selected_order_as_text(at):
    b.open_page(at, "pages/approvals.py")
    b.select_row(at, "queue", "order_no", ORDER_NO)
    assert f"Deciding the void of {md_escape(ORDER_NO)}" in [h.value for h in at.subheader]
    assert_shown_as_text(at, ORDER_NO)

