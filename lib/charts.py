"""DataFrames -> Plotly figures, pure: every builder takes the frame (and the language, or titles already
translated) and returns a figure. The dashboards' builders follow the lib/analytics frames; each clickable mark
carries `customdata` whose first items say what it stands for (reason code, period, key), read back by
lib/ui/analytics_drill for the drill-down to Search. Text from data is escaped: Plotly renders some HTML.
"""
from datetime import date
from html import escape

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from lib import i18n
from lib.analytics.filters import reason_code_of

# One colour per reason code, so a reason keeps its colour on every chart.
PALETTE = px.colors.qualitative.Safe
DISPOSITION_COLOURS = {"restock": "#2e7d32", "repair": "#f9a825", "scrap": "#c62828", "pending": "#9e9e9e"}
RATE_SCALE = "Reds"
ROW_PX = 30


def png_config(filename: str) -> dict:
    """Plotly toolbar config: no logo, PNG download named after the chart."""
    return {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"],
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2}}


# The default catalogue order (SPEC §4, §5; the home page colours by it too); other codes follow by name.
DEFAULT_REASON_ORDER = ("customer_cancelled", "out_of_stock", "order_error", "payment_failed", "fraud_risk",
                        "quality", "changed_mind", "wrong_item", "damaged", "other")


def reason_colours(keys) -> dict[str, str]:
    """One colour per reason code, in a fixed order, so a reason keeps its colour on every chart and page.

    "As recorded" keys (lib.analytics.filters) take their code's colour: the first key of a code given (the labels
    used most recently) the colour itself, earlier labels lighter shades of it.
    """
    code_of = {k: reason_code_of(k) if isinstance(k, str) else k for k in dict.fromkeys(keys)}
    known = {code: i for i, code in enumerate(DEFAULT_REASON_ORDER)}
    others = sorted(c for c in set(code_of.values()) if c not in known)   # reasons added later, after the defaults
    slot = {**known, **{c: len(known) + i for i, c in enumerate(others)}}
    seen: dict[str, int] = {}
    colours = {}
    for key, code in code_of.items():
        colours[key] = _lighter(PALETTE[slot[code] % len(PALETTE)], min(0.3 * seen.get(code, 0), 0.75))
        seen[code] = seen.get(code, 0) + 1
    return colours


def _lighter(colour: str, share: float) -> str:
    """An "rgb(r, g, b)" colour mixed with `share` white."""
    if not share:
        return colour
    r, g, b = (int(x) for x in colour[colour.index("(") + 1:colour.index(")")].split(","))
    return "rgb({}, {}, {})".format(*(round(c + (255 - c) * share) for c in (r, g, b)))


def period_label(start: date, grain: str, lang: str) -> str:
    if grain == "month":
        return i18n.t("dash.month_of", lang, month=f"{start:%Y-%m}")
    if grain == "week":
        return i18n.t("dash.week_of", lang, day=start.isoformat())
    return start.isoformat()


def _text(value) -> str:
    return escape(str(value), quote=False)


def wrap(text: str, width: int = 14) -> str:
    """An axis label broken into lines of about `width` characters with <br> (Chinese: half as many characters,
    in even pieces)."""
    if " " not in text:
        per_line = max(width // 2, 1)
        if len(text) <= per_line + 1 or not any(ch >= "\u2e80" for ch in text):  # one Latin word stays whole
            return text
        lines = -(-len(text) // per_line)
        size = -(-len(text) // lines)
        return "<br>".join(text[i:i + size] for i in range(0, len(text), size))
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def _layout(fig: go.Figure, title: str, height: int, legend: bool = False) -> go.Figure:
    fig.update_layout(title=dict(text=_text(title), x=0, xanchor="left"), height=height,
                      margin=dict(l=10, r=10, t=48, b=10), showlegend=legend, hovermode="closest",
                      legend=dict(orientation="h", yanchor="top", y=-0.12, x=0, xanchor="left", title=None,
                                  traceorder="normal"),
                      bargap=0.2, dragmode=False)
    return fig


def date_ticks(fig: go.Figure, periods, grain: str) -> None:
    """Numeric dates on the x axis (the same in both languages); a month grain ticks once a month."""
    years = {p.year for p in periods}
    fmt = "%Y-%m" if grain == "month" else ("%m-%d" if len(years) <= 1 else "%Y-%m-%d")
    fig.update_xaxes(tickformat=fmt, type="date", **({"dtick": "M1"} if grain == "month" else {}))


def stacked_trend(df: pd.DataFrame, count: str, names: dict, colours: dict, grain: str, lang: str, *,
                  title: str) -> go.Figure:
    """Bars per period stacked by reason; df[period, reason_code, <count>, value]."""
    fig = go.Figure()
    order = [c for c in colours if c in set(df["reason_code"])] + sorted(set(df["reason_code"]) - set(colours))
    for code in order:
        part = df[df["reason_code"] == code]
        name = _text(names.get(code, code))
        starts = [_as_date(p) for p in part["period"]]
        hover = [f"<b>{name}</b><br>{period_label(s, grain, lang)}<br>"
                 f"{i18n.t(f'dash.col.{count}', lang)}: {i18n.fmt_int(n, lang)}<br>"
                 f"{i18n.t('dash.col.value', lang)}: {i18n.fmt_money(v, lang)}"
                 for s, n, v in zip(starts, part[count], part["value"])]
        fig.add_bar(x=starts, y=part[count], name=name, marker_color=colours.get(code, "#888"),
                    customdata=[[s.isoformat(), code, int(n)] for s, n in zip(starts, part[count])],
                    hovertext=hover, hovertemplate="%{hovertext}<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text=i18n.t(f"dash.col.{count}", lang), rangemode="tozero")
    if not df.empty:
        date_ticks(fig, [_as_date(p) for p in df["period"]], grain)
    return _layout(fig, title, 400, legend=True)


def pareto(df: pd.DataFrame, count: str, names: dict, colours: dict, lang: str, *, title: str) -> go.Figure:
    """Bars of count per reason (largest first) and the cumulative share as a line on a right-hand axis."""
    plain = [_text(names.get(c, c)) for c in df["reason_code"]]
    labels = [wrap(x, 16) for x in plain]
    data = [[c, int(n)] for c, n in zip(df["reason_code"], df[count])]
    count_name = i18n.t(f"dash.col.{count}", lang)
    cum_name = i18n.t("dash.col.cumulative_share", lang)
    fig = go.Figure()
    fig.add_bar(x=labels, y=df[count], marker_color=[colours.get(c, "#888") for c in df["reason_code"]],
                name=count_name, customdata=data, text=[i18n.fmt_int(n, lang) for n in df[count]],
                textposition="outside", cliponaxis=False,
                hovertext=[f"<b>{lab}</b><br>{count_name}: {i18n.fmt_int(n, lang)}<br>"
                           f"{i18n.t('dash.col.share', lang)}: {i18n.fmt_pct(s, lang)}"
                           for lab, n, s in zip(plain, df[count], df["share"])],
                hovertemplate="%{hovertext}<extra></extra>")
    fig.add_scatter(x=labels, y=df["cumulative_share"], yaxis="y2", mode="lines+markers", name=cum_name,
                    line=dict(color="#37474f", width=2), customdata=data,
                    hovertext=[f"{cum_name}: {i18n.fmt_pct(s, lang)}" for s in df["cumulative_share"]],
                    hovertemplate="%{hovertext}<extra></extra>")
    top = float(df[count].max()) if not df.empty else 1.0
    fig.update_layout(yaxis=dict(title_text=count_name, range=[0, top * 1.15]),
                      yaxis2=dict(title_text=cum_name, overlaying="y", side="right", range=[0, 1.05],
                                  tickformat=".0%", dtick=0.2, showgrid=False),
                      xaxis=dict(tickangle=0))
    return _layout(fig, title, 380)


def rate_bars(df: pd.DataFrame, base: str, count: str, lang: str, *, title: str,
              show_key: bool = False) -> go.Figure:
    """Horizontal bars of rate per key, best-scored on top, with rate and count/base as text and hover.

    df[key, label, <base>, <count>, rate, score]."""
    names = [_text(f"{k} · {lab}" if show_key else lab) for k, lab in zip(df["key"], df["label"])]
    names = _unique(names, list(df["key"]))
    base_name, count_name = i18n.t(f"dash.col.{base}", lang), i18n.t(f"dash.col.{count}", lang)
    text = [f"{i18n.fmt_pct(r, lang)}  ({i18n.fmt_int(n, lang)} / {i18n.fmt_int(b, lang)})"
            for r, n, b in zip(df["rate"], df[count], df[base])]
    hover = [f"<b>{name}</b><br>{i18n.t('dash.col.rate', lang)}: {i18n.fmt_pct(r, lang, 2)}<br>"
             f"{count_name}: {i18n.fmt_int(n, lang)}<br>{base_name}: {i18n.fmt_int(b, lang)}<br>"
             f"{i18n.t('dash.col.score', lang)}: {i18n.fmt_pct(s, lang, 2)}"
             for name, r, n, b, s in zip(names, df["rate"], df[count], df[base], df["score"])]
    fig = go.Figure(go.Bar(x=df["rate"], y=names, orientation="h", marker_color="#c0504d", text=text,
                           textposition="outside", cliponaxis=False, customdata=[[k] for k in df["key"]],
                           hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    top = float(df["rate"].max()) if not df.empty else 0.1
    fig.update_xaxes(tickformat=".1%" if top < 0.05 else ".0%", range=[0, max(top, 0.001) * 1.45],
                     title_text=i18n.t("dash.col.rate", lang))
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _layout(fig, title, 90 + ROW_PX * max(len(df), 3))


def _unique(names: list[str], keys: list[str]) -> list[str]:
    """Bar labels made unique (two products may share a name): a repeated label gets its key appended."""
    seen = {n for n in names if names.count(n) > 1}
    return [f"{n} ({_text(k)})" if n in seen else n for n, k in zip(names, keys)]


def rate_heatmap(df: pd.DataFrame, lang: str, *, title: str) -> go.Figure:
    """Category × month heat map of void rate; df[category, label, month, orders, voids, rate].

    Plotly heat maps cannot be selected, so an invisible marker sits on every cell to carry the click."""
    months = sorted({_as_date(m) for m in df["month"]})
    cols = [f"{m:%Y-%m}" for m in months]
    cats = list(dict.fromkeys(df["category"]))
    names = dict(zip(df["category"], (_text(x) for x in df["label"])))
    cell = {(c, _as_date(m)): r for c, m, r in zip(df["category"], df["month"], df.itertuples())}
    z = [[_rate_or_none(cell.get((c, m))) for m in months] for c in cats]
    text = [[i18n.fmt_pct(v, lang) if v is not None else "" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=[names[c] for c in cats], text=text, texttemplate="%{text}",
                               colorscale=RATE_SCALE, hoverinfo="skip", xgap=2, ygap=2,
                               colorbar=dict(tickformat=".1%", title=dict(text=i18n.t("dash.col.rate", lang)))))
    rows = [(c, m, r) for (c, m), r in cell.items()]
    fig.add_scatter(x=[f"{m:%Y-%m}" for _, m, _ in rows], y=[names[c] for c, _, _ in rows], mode="markers",
                    marker=dict(size=1, opacity=0), showlegend=False,
                    customdata=[[m.isoformat(), c, int(r.voids)] for c, m, r in rows],
                    hovertext=[f"<b>{names[c]}</b> · {m:%Y-%m}<br>"
                               f"{i18n.t('dash.col.rate', lang)}: {i18n.fmt_pct(r.rate, lang, 2)}<br>"
                               f"{i18n.t('dash.col.voids', lang)}: {i18n.fmt_int(r.voids, lang)}<br>"
                               f"{i18n.t('dash.col.orders', lang)}: {i18n.fmt_int(r.orders, lang)}"
                               for c, m, r in rows],
                    hovertemplate="%{hovertext}<extra></extra>")
    fig.update_layout(hoverdistance=-1)
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    return _layout(fig, title, 110 + 34 * max(len(cats), 3))


def _rate_or_none(row):
    if row is None or not row.orders:
        return None
    return float(row.rate)


def category_bars(labels: list[str], values, lang: str, *, title: str, value_name: str,
                  colours: list[str] | None = None, keys: list | None = None, shares=None,
                  wrap_at: int = 10) -> go.Figure:
    """Plain vertical bars (time-to-void buckets, return reasons, dispositions) with the value as text."""
    plain = [_text(x) for x in labels]
    labels = [wrap(x, wrap_at) for x in plain]
    text = [i18n.fmt_int(v, lang) + (f"<br>{i18n.fmt_pct(s, lang)}" if shares is not None else "")
            for v, s in zip(values, shares if shares is not None else [None] * len(labels))]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=colours or "#5c6bc0", text=text,
                           textposition="outside", cliponaxis=False,
                           customdata=[[k] for k in keys] if keys is not None else None,
                           hovertext=[f"<b>{lab}</b><br>{value_name}: {t.replace('<br>', ' · ')}"
                                      for lab, t in zip(plain, text)],
                           hovertemplate="%{hovertext}<extra></extra>"))
    top = max([float(v) for v in values] or [1.0])
    fig.update_yaxes(title_text=value_name, range=[0, max(top, 1) * 1.18])
    fig.update_xaxes(type="category", tickangle=0)
    return _layout(fig, title, 420)


# --- the home page -------------------------------------------------------------------------------

def _home_layout(fig: go.Figure, title: str | None) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0, xanchor="left") if title else None,
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, title=None),
                      height=360, bargap=0.15)
    return fig


def stacked_weekly_bars(df: pd.DataFrame, x: str, y: str, colour: str, *, title: str | None,
                        x_label: str, y_label: str, order_by: str | None = None,
                        colours: dict[str, str] | None = None) -> go.Figure:
    """Bars per period stacked by a category (e.g. voids per week by reason).

    `order_by` names a column fixing the category order; `colours` (category value -> colour) fixes the
    colours, so a category keeps its colour in every language, period and page.
    """
    order = list(df.sort_values(order_by)[colour].unique()) if order_by and not df.empty else None
    fig = px.bar(df, x=x, y=y, color=colour, color_discrete_sequence=PALETTE, color_discrete_map=colours or {},
                 category_orders={colour: order} if order else None,
                 labels={x: x_label, y: y_label, colour: ""})
    fig.update_xaxes(tickformat="%m-%d")
    return _home_layout(fig, title)
