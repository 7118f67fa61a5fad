"""Links between pages that carry their context in the URL (bookmarkable, shareable)."""
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lib.ui.context import tr

ORDER_PAGE = "pages/order.py"
SEARCH_PAGE = "pages/search.py"
RETURNS_PAGE = "pages/returns.py"
REFUNDS_PAGE = "pages/refunds.py"


def _link(page: str, label: str, icon: str, params: dict) -> None:
    try:
        st.page_link(page, label=label, icon=icon, query_params=params)
    except StreamlitAPIException:  # the page is not in this user's navigation: show the name only
        st.text(label)


def order_link(order_no: str, label: str | None = None) -> None:
    _link(ORDER_PAGE, label or tr("links.open_order", order_no=order_no), ":material/receipt_long:",
          {"no": order_no})


def return_link(return_no: str, label: str | None = None) -> None:
    _link(RETURNS_PAGE, label or tr("links.open_return", return_no=return_no), ":material/assignment_return:",
          {"no": return_no})


def refund_link(order_no: str, status: str = "pending", label: str | None = None) -> None:
    """The refund queue opened on the order's refund (a notification about a refund links here)."""
    _link(REFUNDS_PAGE, label or tr("links.open_refund", order_no=order_no), ":material/payments:",
          {"order_no": order_no, "status": status})


def order_url(order_no: str) -> str:
    """Relative URL of an order page, for LinkColumn cells."""
    return f"/order?no={order_no}"
