"""The waterfall of an explanation (issue #17): from the rate (or count) before, one step per segment's
contribution, to the rate after. Pure, like lib.charts: a lib.analytics.explain result in, a figure out.

Drawn as stacked bars (an invisible base under each step) rather than go.Waterfall, because bars can be selected
in Streamlit and so drill to the orders behind them. Each step's `customdata` is [what, key, count]: "before" /
"after" for the totals, "row", the segment's key and its later count for a step; the folded rest carries none.
"""
import plotly.graph_objects as go

from lib import i18n
from lib.charts import _layout, _text, wrap

UP, DOWN, TOTAL = "#c0504d", "#2e7d32", "#5c6bc0"


def fmt_value(value, measure: str, lang: str, signed: bool = False, short: bool = False) -> str:
    """A rate as a percentage (a change in percentage points; `short`: the bare number, for a bar's label where
    "个百分点" would not fit), a count as a number."""
    if value is None:
        return "–"
    if measure == "rate":
        if signed:
            return f"{value * 100:+.2f}" if short and lang == "zh" else i18n.t("dash.pp", lang, n=f"{value * 100:+.2f}")
        return i18n.fmt_pct(value, lang, 2)
    text = f"{value:+,.0f}" if signed else i18n.fmt_int(value, lang)
    return text


def waterfall(result: dict, lang: str, *, title: str) -> go.Figure:
    """Before, the steps of result["rows"] in their order, after."""
    measure = result["measure"]
    level = result["before"]["rate" if measure == "rate" else "count"] or 0
    labels = [i18n.t("explain.before_bar", lang)]
    bases, heights, colours = [0.0], [level], [TOTAL]
    data = [["before", None, result["before"]["count"]]]
    texts = [fmt_value(level, measure, lang)]
    hovers = list(texts)
    for row in result["rows"]:
        step = row["contribution"]
        labels.append(wrap(_text(row["label"]), 12))
        bases.append(min(level, level + step))
        heights.append(abs(step))
        colours.append(UP if step > 0 else DOWN)
        # the rest, or orders without a value, are no one set of orders to list: no drill
        data.append(["row", row["key"], row["after"]["count"]] if row["key"] else None)
        texts.append(fmt_value(step, measure, lang, signed=True, short=True))
        hovers.append(fmt_value(step, measure, lang, signed=True))
        level += step
    after = result["after"]["rate" if measure == "rate" else "count"] or 0
    labels.append(i18n.t("explain.after_bar", lang))
    bases.append(0.0)
    heights.append(after)
    colours.append(TOTAL)
    data.append(["after", None, result["after"]["count"]])
    texts.append(fmt_value(after, measure, lang))
    hovers.append(texts[-1])
    labels = _unique(labels)
    fig = go.Figure()
    fig.add_bar(x=labels, y=bases, marker_color="rgba(0,0,0,0)", hoverinfo="skip", showlegend=False)
    fig.add_bar(x=labels, y=heights, marker_color=colours, customdata=data, text=texts, textposition="outside",
                cliponaxis=False, showlegend=False, hovertext=_hover(labels, hovers),
                hovertemplate="%{hovertext}<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category", tickangle=0)
    fig.update_yaxes(range=_range(bases, heights), tickformat=".2%" if measure == "rate" else ",d",
                     title_text=i18n.t(f"explain.axis_{measure}_{result['kind']}", lang))
    return _layout(fig, title, 440)


def _hover(labels: list[str], texts: list[str]) -> list[str]:
    return [f"<b>{lab.replace('<br>', ' ')}</b><br>{t}" for lab, t in zip(labels, texts)]


def _range(bases: list[float], heights: list[float]) -> list[float]:
    """The y axis from a little below the lowest step to above the highest, so small steps stay visible; the
    totals' bars are then cut at the bottom (their values are written on them)."""
    tops = [b + h for b, h in zip(bases, heights)]
    steps = [(b, t) for b, t in zip(bases[1:-1], tops[1:-1])] or [(0.0, max(tops))]
    low, high = min(b for b, _ in steps), max(max(tops), max(t for _, t in steps))
    span = max(high - low, high * 0.02, 1e-9)
    return [max(0.0, low - span * 0.6), high + span * 0.25]


def _unique(labels: list[str]) -> list[str]:
    """Category labels made unique (two customers may share a name): a repeat gets a numbered suffix."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out
