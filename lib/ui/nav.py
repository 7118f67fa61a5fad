"""Which pages each role sees, grouped in sidebar sections (SPEC §1)."""
from dataclasses import dataclass

import streamlit as st

from lib.domain import User, can, refusal
from lib.ui.context import lang, tr


@dataclass(frozen=True)
class PageSpec:
    path: str
    title_key: str
    icon: str
    section_key: str
    action: str | None = None      # permission needed to see the page; None = every signed-in user
    url_path: str | None = None
    default: bool = False
    hidden: bool = False            # reachable by link only (e.g. one order)


PAGES = (
    PageSpec("pages/home.py", "nav.home", ":material/home:", "nav.section.work", default=True),
    PageSpec("pages/search.py", "nav.search", ":material/search:", "nav.section.work", "order.view",
             url_path="search"),
    PageSpec("pages/new_order.py", "nav.new_order", ":material/add_shopping_cart:", "nav.section.work",
             "order.create", url_path="new-order"),
    PageSpec("pages/approvals.py", "nav.approvals", ":material/gavel:", "nav.section.work", "void.approve",
             url_path="approvals"),
    PageSpec("pages/returns.py", "nav.returns", ":material/assignment_return:", "nav.section.work",
             "order.view_all", url_path="returns"),
    PageSpec("pages/stock.py", "nav.stock", ":material/inventory_2:", "nav.section.work", "stock.view",
             url_path="stock"),
    PageSpec("pages/refunds.py", "nav.refunds", ":material/payments:", "nav.section.work", "refund.view",
             url_path="refunds"),
    PageSpec("pages/order.py", "nav.order", ":material/receipt_long:", "nav.section.work", "order.view",
             url_path="order", hidden=True),
    PageSpec("pages/void_dashboard.py", "nav.void_dashboard", ":material/analytics:", "nav.section.analytics",
             "analytics.view", url_path="void-dashboard"),
    PageSpec("pages/returns_dashboard.py", "nav.returns_dashboard", ":material/assignment_returned:",
             "nav.section.analytics", "analytics.view", url_path="returns-dashboard"),
    PageSpec("pages/explore.py", "nav.explore", ":material/query_stats:", "nav.section.analytics", "analytics.view",
             url_path="explore"),
    PageSpec("pages/audit.py", "nav.audit", ":material/policy:", "nav.section.admin", "audit.view",
             url_path="audit"),
    PageSpec("pages/outbox.py", "nav.outbox", ":material/outgoing_mail:", "nav.section.admin", "users.manage",
             url_path="outbox"),
    PageSpec("pages/chat.py", "nav.chat", ":material/forum:", "nav.section.admin", "chat.manage",
             url_path="team-chat"),
    PageSpec("pages/import_data.py", "nav.import", ":material/upload_file:", "nav.section.admin", "import.run",
             url_path="import"),
    PageSpec("pages/reasons.py", "nav.reasons", ":material/label:", "nav.section.admin", "reasons.edit",
             url_path="reasons"),
    PageSpec("pages/catalog.py", "nav.catalog", ":material/category:", "nav.section.admin", "settings.edit",
             url_path="catalog"),
    PageSpec("pages/rules.py", "nav.rules", ":material/tune:", "nav.section.admin", "settings.edit", url_path="rules"),
    PageSpec("pages/users.py", "nav.users", ":material/group:", "nav.section.admin", "users.manage", url_path="users"),
    PageSpec("pages/inbox.py", "nav.inbox", ":material/notifications:", "nav.section.account",
             url_path="inbox"),
    PageSpec("pages/account.py", "nav.account", ":material/person:", "nav.section.account",
             url_path="account"),
)


def visible_pages(user: User) -> list[PageSpec]:
    """The pages a user's role may open; a user who must change their password sees only their account."""
    if user.must_change_password:
        return [p for p in PAGES if p.url_path == "account"]
    return [p for p in PAGES if p.action is None or can(user, p.action)]


def navigation(user: User):
    """st.navigation over the user's pages, grouped by section; the pages this role may not see are there too,
    hidden, so that one opened by its address says which page was refused and why (not Streamlit's "page not
    found")."""
    sections: dict[str, list] = {}
    pages = visible_pages(user)
    for spec in pages:
        page = st.Page(spec.path, title=tr(spec.title_key), icon=spec.icon, url_path=spec.url_path,
                       default=spec.default or len(pages) == 1, visibility="hidden" if spec.hidden else "visible")
        sections.setdefault(tr(spec.section_key), []).append(page)
    for spec in PAGES:
        if spec not in pages and spec.url_path:
            sections.setdefault(tr(spec.section_key), []).append(
                st.Page(_refused(user, spec), title=tr(spec.title_key), icon=spec.icon, url_path=spec.url_path,
                        visibility="hidden"))
    return st.navigation(sections, expanded=True)   # every page in view, however many the role has


def _refused(user: User, spec: PageSpec):
    def refused_page() -> None:
        if user.must_change_password:
            why = tr("auth.must_change")
        else:
            why = refusal(user, spec.action).message(lang()) if spec.action else ""
        st.error(tr("nav.refused", page=tr(spec.title_key), why=why), icon=":material/block:")
        st.page_link("pages/account.py" if user.must_change_password else "pages/home.py",
                     label=tr("nav.account" if user.must_change_password else "nav.home"),
                     icon=":material/person:" if user.must_change_password else ":material/home:")
    refused_page.__name__ = f"refused_{spec.url_path.replace('-', '_')}"
    return refused_page

