"""The "Explain the change" view of the dashboards (issue #17) through AppTest, in English and 中文: a spike's
Explain action opens its week against its baseline weeks, and the period comparison adds up to the KPIs' change."""
import pytest

from lib import clock, i18n
from lib.analytics import voids
from lib.analytics.filters import AnalyticsFilters
from lib.db import open_database
from lib.db import rows_as_dicts
from lib.services.auth import user_from_row
from tests.app.test_dashboards import RETURNS, VOID, open_as


def analyst(path):
    with open_database(str(path)).read() as cur:
        return user_from_row(rows_as_dicts(cur, "SELECT id, username, display_name, role, language,"
                                                " must_change_password FROM users WHERE username = 'analyst'")[0])


def button(app, key_part: str):
    return next(b for b in app.button if key_part in (b.key or ""))


@pytest.mark.parametrize("language", ["en", pytest.param("zh", marks=pytest.mark.slow)])
def test_a_spikes_explain_action_opens_its_week_against_the_weeks_before(app, demo_db_path, language):
    app = open_as(app, demo_db_path, "analyst", VOID, language)
    button(app, "void_explain_out_of_stock_").click().run()
    assert not app.exception, app.exception
    reason = {"en": "Out of stock", "zh": "缺货"}[language]
    assert any(f"**{reason}**" in i.value for i in app.info)
    table = app.dataframe[-1].value
    headers = [i18n.t(f"explain.col.{c}", language)
               for c in ("label", "contribution", "mix", "rate_effect", "before_base", "before_count", "before_rate",
                         "after_base", "after_count", "after_rate")]
    assert list(table.columns) == headers
    strongest = i18n.t("explain.strongest", language).split("{")[0]
    assert any(m.value.startswith(strongest) for m in app.markdown)
    picker = app.selectbox(key="void_explain_by_reason")   # a spike is one reason: no split by reason
    assert "Reason" not in picker.options and "原因" not in picker.options
    best = [b for b in app.button if b.key == "void_explain_by_reason_best"]
    if best:   # the sentence names another dimension than the chart's: its button splits the chart by it
        best[0].click().run()
        assert app.selectbox(key="void_explain_by_reason").value != "category"
    button(app, "void_explain_back").click().run()
    assert not app.exception and app.segmented_control(key="void_explain_vs")


@pytest.mark.parametrize("page, kind", [(VOID, "void"), (RETURNS, "return")])
def test_the_period_comparison_adds_up_to_the_change_of_the_count(app, demo_db_path, page, kind):
    app = open_as(app, demo_db_path, "analyst", page, "zh")
    app.toggle(key=f"{kind}_explain_on").set_value(True).run()
    app.segmented_control(key=f"{kind}_explain_measure").set_value("count").run()
    app.selectbox(key=f"{kind}_explain_by_all").set_value("reason").run()
    assert not app.exception, app.exception
    table = app.dataframe[-1].value
    contributions = table[i18n.t("explain.col.contribution", "zh")]
    if kind == "void":
        today = clock.today()
        kpis = voids.kpis(open_database(str(demo_db_path)), analyst(demo_db_path),
                          AnalyticsFilters.default(today))
        assert contributions.sum() == kpis["current"]["voids"] - kpis["previous"]["voids"]
    labels = set(table[i18n.t("explain.col.label", "zh")])
    assert labels and not any(label.replace("_", "").isascii() and "_" in label for label in labels)
