"""The order page's Void button (issue #13): drawn from a one-query verdict with the service's own refusal
words; the impact preview is computed only once the void dialog is asked for."""
import pytest

from lib.errors import VoidDeskError
from lib.queries.voids import preview_void
from lib.services import voids
from lib.services.settings import update_rules
from lib.ui import void_actions
from lib.ui.context import md_escape
from tests.app import builders as b


def _service_says(path, username: str, order_no: str) -> VoidDeskError:
    """What the void service itself answers when this user tries to void the order."""
    with pytest.raises(VoidDeskError) as refused:
        voids.void_order(b.handle(path), b.user(path, username), order_no, "customer_cancelled")
    return refused.value


def _open_order(app, username: str, order_no: str, lang: str = "en"):
    b.sign_in(app, username)
    app.session_state["lang"] = lang
    b.open_page(app, "pages/order.py", no=order_no)
    assert not app.exception, app.exception
    return app


def test_the_impact_preview_is_computed_only_when_the_void_dialog_opens(app, demo_db_path, monkeypatch):
    previewed = []

    def spy(*args, **kwargs):   # the real preview, on the real database; only its calls are noted
        previewed.append(args[2])
        return preview_void(*args, **kwargs)

    monkeypatch.setattr(void_actions, "preview_void", spy)
    order_no = b.order(demo_db_path, status="processing", paid=True)
    _open_order(app, "ops", order_no)
    app.text_input(key="step_note").input("checking first").run()   # the panel runs again
    assert (app.button(key="void_open").label, app.button(key="void_open").disabled) == ("Void order", False)
    assert previewed == []
    assert not [m for m in app.metric if m.label == "Refund owed"]

    app.button(key="void_open").click().run()   # sets the dialog flag: the dialog opens, and previews
    assert not app.exception, app.exception
    assert previewed and set(previewed) == {order_no}
    assert [m.label for m in app.metric if m.label == "Refund owed"] == ["Refund owed"]
    app.selectbox(key="void_dialog_reason").set_value("customer_cancelled").run()
    app.button(key="void_review").click().run()
    app.button(key="void_confirm").click().run()
    assert not app.exception, app.exception
    assert any(s.startswith(f"Order {md_escape(order_no)} voided;") for s in b.messages(app.success))
    assert b.order_status(demo_db_path, order_no) == "voided"
    assert app.button(key="restore").disabled   # the page shows the new state: ops may not restore
    b.assert_consistent(demo_db_path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_shipped_orders_void_button_is_disabled_with_the_services_words(app, demo_db_path, lang):
    order_no = b.order(demo_db_path, status="shipped")
    refused = _service_says(demo_db_path, "ops", order_no)
    _open_order(app, "ops", order_no, lang)
    button = app.button(key="void_open")
    assert (button.disabled, button.help) == (True, refused.message(lang, md_escape))   # a tooltip is Markdown
    if lang == "en":
        assert refused.message(lang) == (f"Order {order_no} has shipped, so it cannot be voided. Take the goods back"
                                         " with a return instead.")
        assert "Shipped goods come back through a return note instead." in [c.value for c in app.caption]


def test_a_role_that_may_not_void_sees_the_services_words(app, demo_db_path):
    order_no = b.order(demo_db_path)
    words = _service_says(demo_db_path, "warehouse", order_no).message("en")
    _open_order(app, "warehouse", order_no)
    assert words == "Only operations staff, operations leads and administrators can void orders."
    assert (app.button(key="void_open").disabled, app.button(key="void_open").help) == (True, words)


def test_a_sales_rep_requests_voids_of_their_own_orders_only(app, demo_db_path):
    own, other = b.order(demo_db_path, rep="sales"), b.order(demo_db_path, rep="sales2")
    _open_order(app, "sales", own)
    button = app.button(key="void_open")
    assert (button.label, button.disabled) == ("Request void", False)

    lead = b.user(demo_db_path, "lead")
    update_rules(b.handle(demo_db_path), lead, sales_may_request_voids=False)
    try:
        words = _service_says(demo_db_path, "sales", own).message("en")
        app.run()
        button = app.button(key="void_open")
        assert (button.label, button.disabled, button.help) == ("Request void", True, words)
        assert words == "Sales reps may not request voids at the moment (see the rules)."
    finally:
        update_rules(b.handle(demo_db_path), lead, sales_may_request_voids=True)

    refused = _service_says(demo_db_path, "sales", other)
    b.open_page(app, "pages/order.py", no=other)   # another rep's order: the page shows the service's words
    assert not app.exception, app.exception
    assert b.messages(app.error) == [refused.message("en", md_escape)]
    assert refused.message("en") == f"Order {other} was not found."
    assert "void_open" not in {btn.key for btn in app.button}
