"""Links between pages that carry their context in the URL (bookmarkable, shareable)."""
import streamlit as st

from lib.ui.context import tr

ORDER_PAGE = "pages/order.py"
SEARCH_PAGE = "pages/search.py"


def order_link(order_no: str, label: str | None = None) -> None:
    st.page_link(ORDER_PAGE, label=label or tr("links.open_order", order_no=order_no),
                 icon=":material/receipt_long:", query_params={"no": order_no})


def order_url(order_no: str) -> str:
    """Relative URL of an order page, for LinkColumn cells."""
    return f"/order?no={order_no}"
