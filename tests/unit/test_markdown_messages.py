"""Refusals shown as Markdown (issue #16, finding 3): VoidDeskError.message escapes the parameters it carries — what
a URL or the data says — never the catalogue's words; without an escape (the CLI) it reads as before."""
from datetime import date

from lib.analytics.filters import AnalyticsFilters, check_grain
from lib.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from lib.queries.search_filters import PARAM_NAMES, SearchFilters
from lib.ui.context import md_escape

PAYLOAD = "**bold** [link](http://evil.example) ![img](http://evil.example/t.png) <b>x</b>"
LIVE = ("**bold**", "[link](", "![img](", "<b>", "://evil")
TODAY = date(2026, 11, 29)


def test_md_escape_keeps_the_words_and_breaks_what_streamlit_would_link_or_draw():
    # Checked in Chromium: each of these shows as typed, with no link, picture, emphasis or code.
    words = "x_y *a* `c` A&amp;B www.evil.example HTTP://evil.example me@evil.example :red[r] :smile: 1. # $x$"
    shown = md_escape(words)
    assert shown.replace("\u2060", "").replace("\\", "") == words   # the same words, read without the escapes
    for live in ("www.", "://", "@e", ":r", ":s", "*a*", "`c`", "[r]", "$x$"):
        assert live not in shown, live
    assert "A\\&amp;B" in shown   # not read as the entity "&"



def test_md_escape_leaves_plain_numbers_and_names_as_they_are():
    # A widget's accessible name is its label before Markdown: backslashes there would be read out and would not
    # match what people see, so nothing that Markdown leaves alone is escaped.
    for plain in ("SO-20261203-0002", "BTY-0007", "SKU_12", "Acme (Shanghai) Ltd.", "张三_李四", "Order 12. Line 3"):
        assert md_escape(plain) == plain, plain


def test_md_escape_breaks_block_markers_only_where_a_line_starts():
    assert md_escape("# head") == r"\# head" and md_escape("a # b") == "a # b"
    assert md_escape("- item\n+ item\n===") == "\\- item\n\\+ item\n\\==="
    assert md_escape("1. one\r\n  12) two") == "1\\. one\r\n  12\\) two"
    assert md_escape("_a_ b__c__ d_e") == r"\_a\_ b\_\_c\_\_ d_e"   # "_" escaped unless between letters

def test_a_refusal_escapes_its_parameters_for_markdown_and_reads_as_before_without():
    refused = NotFound("orders.not_found", order_no=PAYLOAD)
    assert refused.message("en") == f"Order {PAYLOAD} was not found."   # the CLI's plain text
    assert refused.message("en", md_escape) == f"Order {md_escape(PAYLOAD)} was not found."


def test_catalogue_words_and_numbers_in_a_refusal_are_left_as_they_are():
    moved = RuleViolation("orders.bad_transition", order_no="INJ-[x](y)", status="status.pending",
                          to="status.completed")
    assert moved.message("en", md_escape) == r"Order INJ-\[x\](y) is Pending; it cannot move to Completed."
    too_long = InvalidInput("search.text_too_long", field="customer", n=200)
    assert too_long.message("en", md_escape) == "The customer filter is too long (at most 200 characters)."
    denied = PermissionDenied(action="action.void.approve", roles=("ops_lead", "admin"))
    assert denied.message("zh", md_escape) == denied.message("zh")


def _refusal(parse, value) -> InvalidInput | None:
    """What parse(value) refuses with, or None."""
    try:
        parse(value)
    except InvalidInput as refused:
        return refused
    return None


def test_every_url_filter_value_a_page_refuses_is_quoted_as_text():
    search = {p: _refusal(SearchFilters.from_params, {p: PAYLOAD}) for p in set(PARAM_NAMES.values())}
    assert {p for p, r in search.items() if r} == {
        "from", "to", "voided_from", "voided_to", "returned_from", "returned_to", "min_total", "max_total", "status",
        "payment", "source"}   # the others are search words or codes, never quoted back
    dashboard = [_refusal(lambda q: AnalyticsFilters.from_params(q, TODAY), {p: PAYLOAD})
                 for p in ("from", "to", "basis", "labels")] + [_refusal(check_grain, PAYLOAD)]
    assert all(dashboard)
    for refused in [r for r in search.values() if r] + dashboard:
        plain, shown = refused.message("en"), refused.message("en", md_escape)
        assert "[link](http://evil.example)" in plain, plain
        assert md_escape("[link](http://evil.example)") in shown and not any(m in shown for m in LIVE), shown
