"""Links between pages that carry their context in the URL (bookmarkable, shareable)."""
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lib.ui.context import md_escape, tr

ORDER_PAGE = "pages/order.py"
SEARCH_PAGE = "pages/search.py"
RETURNS_PAGE = "pages/returns.py"
REFUNDS_PAGE = "pages/refunds.py"


def _link(page: str, key: str, icon: str, params: dict, **words) -> None:
    """A link labelled tr(key, **words); the words (an imported order number, say) stay text in the Markdown label."""
    try:
        st.page_link(page, label=tr(key, **{k: md_escape(v) for k, v in words.items()}), icon=icon,
                     query_params=params)
    except StreamlitAPIException:  # the page is not in this user's navigation: show the name only
        st.text(tr(key, **words))


def order_link(order_no: str, key: str = "links.open_order") -> None:
    """`key`: the label's catalogue key, which may name the order ({order_no})."""
    _link(ORDER_PAGE, key, ":material/receipt_long:", {"no": order_no}, order_no=order_no)


def return_link(return_no: str, key: str = "links.open_return") -> None:
    _link(RETURNS_PAGE, key, ":material/assignment_return:", {"no": return_no}, return_no=return_no)


def refund_link(order_no: str, status: str = "pending", key: str = "links.open_refund") -> None:
    """The refund queue opened on the order's refund (a notification about a refund links here)."""
    _link(REFUNDS_PAGE, key, ":material/payments:", {"order_no": order_no, "status": status}, order_no=order_no)


def order_url(order_no: str) -> str:
    """Relative URL of an order page, for LinkColumn cells."""
    return f"/order?no={order_no}"
