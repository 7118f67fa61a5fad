"""A pivot (lib.analytics.explore) shown two ways, in the user's language: a wide table (the first dimension
down, the second dimension or the period across; a rate keeps its base beside it) and a Plotly chart (lines
over time, bars otherwise). Pure: frames in, frames and figures out.
"""
from dataclasses import dataclass, field
from html import escape

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from lib import i18n
from lib.analytics.explore import MONEY, RATES, columns_of
from lib.charts import PALETTE, date_ticks, reason_colours

MAX_ACROSS = 60      # more columns than this and the table stays in long form
MAX_SERIES = 12      # lines or bar colours drawn; the largest by their count or base
MAX_CELLS = 20_000   # complete() leaves bigger grids sparse
# One colour per drawn series: the app's palette, then as many more distinct ones as MAX_SERIES needs.
SERIES_COLOURS = list(PALETTE) + [c for c in px.colors.qualitative.Dark2 if c not in PALETTE]
SERIES_COLOURS = SERIES_COLOURS[:max(MAX_SERIES, len(PALETTE))]


@dataclass
class Table:
    frame: pd.DataFrame
    percent: list[str] = field(default_factory=list)   # columns holding a rate (0–1)
    money: list[str] = field(default_factory=list)
    # What a click on a cell narrows Search by (lib.analytics.explore.drill_params): its row's dimensions, plus
    # what its column stands for (a period or a second-dimension value); other columns add nothing.
    row_cells: list[dict] = field(default_factory=list)
    column_cells: dict[str, dict] = field(default_factory=dict)

    def cell(self, row: int, column: str) -> dict | None:
        """What the cell at (row, column) stands for; None when there is no such row (or nothing to drill)."""
        if not 0 <= row < len(self.row_cells):
            return None
        return {**self.row_cells[row], **self.column_cells.get(column, {})}


def measure_name(name: str, lang: str) -> str:
    return i18n.t(f"explore.measure.{name}", lang)


def dim_name(name: str, lang: str) -> str:
    return i18n.t("explore.period", lang) if name == "period" else i18n.t(f"explore.dim.{name}", lang)


def named(frame: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """`<dim>_label` made unique per code: two customers or products with the same name get their code added."""
    frame = frame.copy()
    for d in dims:
        labels = frame[f"{d}_label"].astype(str)
        shared = frame.groupby(labels)[d].transform("nunique") > 1
        frame[f"{d}_label"] = labels.where(~shared, labels + " (" + frame[d].astype(str) + ")")
    return frame


def complete(frame: pd.DataFrame, dims: list[str], measure: str, periods: list) -> pd.DataFrame:
    """Every dimension combination at every period, zero where nothing happened, so lines do not skip a
    quiet week (a rate stays empty where its base is zero)."""
    keys = dims + [f"{d}_label" for d in dims]
    grid = pd.DataFrame({"period": pd.to_datetime(periods).astype(frame["period"].dtype)})
    if dims:
        combos = frame[keys].drop_duplicates()
        if len(combos) * len(grid) > MAX_CELLS:
            return frame
        grid = combos.merge(grid, how="cross")
    out = grid.merge(frame, on=keys + ["period"], how="left")
    for column in columns_of(measure):
        if column not in RATES:
            out[column] = out[column].fillna(0)
            out[column] = out[column] if column in MONEY else out[column].astype("int64")
    return out


def cells(frame: pd.DataFrame, dims: list[str], grain: str | None) -> list[dict]:
    """Per row of a pivot frame: each dimension's code and the period, for drill_params."""
    columns = {d: d for d in dims} | ({"period": "period"} if grain else {})
    return [{d: _plain(row[c]) for d, c in columns.items()} for row in frame.to_dict("records")]


def _plain(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def across_of(dims: list[str], grain: str | None) -> str | None:
    """What runs across the wide table: the period when there is one and a dimension, else a second dimension."""
    if grain and dims:
        return "period"
    return dims[1] if len(dims) == 2 else None


def wide(frame: pd.DataFrame, dims: list[str], measure: str, grain: str | None, lang: str) -> Table:
    """The pivot table as shown: translated headers, one column per period or second-dimension value."""
    frame = named(frame, dims)
    across = across_of(dims, grain)
    down = [d for d in dims if d != across] + (["period"] if grain and not dims else [])
    down_cols = [_col(d) for d in down]
    headers = {_col(d): dim_name(d, lang) for d in down}
    if across is None or frame[_col(across)].nunique() > MAX_ACROSS:
        return long_table(frame, dims, measure, grain, lang)
    row_cells = cells(frame, dims, grain)
    by_label = {d: dict(zip(frame[_col(d)], (c[d] for c in row_cells))) for d in dims}   # shown label -> code
    shown = [measure] + ([RATES[measure][1]] if measure in RATES else [])
    table = frame.pivot(index=down_cols, columns=_col(across), values=shown)
    table = table.loc[_down_order(frame, down_cols, measure)]
    order = _across_order(frame, across, measure)
    columns, out = [], Table(pd.DataFrame())
    for value in order:
        head = _heading(value)
        columns.append((measure, value, head))
        if measure in RATES:
            columns.append((shown[1], value, f"{head} · {measure_name(shown[1], lang)}"))
            out.percent.append(head)
        elif measure in MONEY:
            out.money.append(head)
    result = pd.DataFrame({head: table[(name, value)] for name, value, head in columns}, index=table.index)
    for name, _, head in columns:   # a combination that never happened counted nothing (a rate stays empty)
        if name not in RATES:
            result[head] = result[head].fillna(0) if name in MONEY else result[head].fillna(0).astype("int64")
    out.frame = result.reset_index().rename(columns=headers)
    out.row_cells = [{d: by_label[d][key] for d, key in zip(down, keys)}
                     for keys in result.index.to_frame(index=False).itertuples(index=False)]
    out.column_cells = {head: {across: value if across == "period" else by_label[across][value]}
                        for _, value, head in columns}
    return out


def long_table(frame: pd.DataFrame, dims: list[str], measure: str, grain: str | None, lang: str) -> Table:
    cols = [_col(d) for d in dims] + (["period"] if grain else []) + columns_of(measure)
    headers = {_col(d): dim_name(d, lang) for d in dims} | {"period": dim_name("period", lang)}
    headers |= {c: measure_name(c, lang) for c in columns_of(measure)}
    return Table(frame[cols].rename(columns=headers),
                 percent=[measure_name(measure, lang)] if measure in RATES else [],
                 money=[measure_name(measure, lang)] if measure in MONEY else [],
                 row_cells=cells(frame, dims, grain))


def _col(dim: str) -> str:
    return "period" if dim == "period" else f"{dim}_label"


def _heading(value) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


def _down_order(frame: pd.DataFrame, down_cols: list[str], measure: str) -> list:
    """Rows with the biggest count (or base, for a rate) first; equal ones by their label."""
    weight = RATES[measure][1] if measure in RATES else measure
    totals = frame.groupby(down_cols)[weight].sum().reset_index()
    ordered = totals.sort_values([weight] + down_cols, ascending=[False] + [True] * len(down_cols), kind="stable")
    return list(ordered.set_index(down_cols).index)


def _across_order(frame: pd.DataFrame, across: str, measure: str) -> list:
    if across == "period":
        return sorted(frame["period"].unique())
    weight = RATES[measure][1] if measure in RATES else measure
    return list(frame.groupby(_col(across))[weight].sum().sort_values(ascending=False).index)


def figure(frame: pd.DataFrame, dims: list[str], measure: str, grain: str | None, lang: str) -> go.Figure:
    """Lines over time when there is a grain, bars otherwise; the top MAX_SERIES series by count or base."""
    data = named(frame, dims)
    # A clicked mark's customdata: its row of `frame` (see cells), as text (Plotly sends numbers packed).
    data["row"] = [str(i) for i in range(len(data))]
    for d in dims:        # Plotly renders some HTML in labels: names from the data are shown as text
        data[_col(d)] = data[_col(d)].map(lambda s: escape(str(s), quote=False))
    weight = RATES[measure][1] if measure in RATES else measure
    series_dims = dims if grain else dims[1:]
    series = _series_column(data, series_dims)
    colours = {}
    if series:
        top = data.groupby(series)[weight].sum().nlargest(MAX_SERIES).index
        data = data[data[series].isin(top)]
        if series_dims == ["reason"]:    # a reason has the same colour here as on the dashboards
            by_code = reason_colours(data["reason"])
            colours = {label: by_code[code] for code, label in zip(data["reason"], data[series])}
    labels = {measure: measure_name(measure, lang), "period": dim_name("period", lang),
              "series": i18n.join_words([dim_name(d, lang) for d in series_dims], lang)}
    labels |= {_col(d): dim_name(d, lang) for d in dims}
    if grain:
        fig = px.line(data.sort_values("period"), x="period", y=measure, color=series, markers=True,
                      color_discrete_sequence=SERIES_COLOURS, color_discrete_map=colours, labels=labels,
                      custom_data=["row"])
    else:
        x = _col(dims[0]) if dims else None
        data = data.sort_values(weight, ascending=False)
        fig = px.bar(data, x=x, y=measure, color=series, barmode="group" if measure in RATES else "stack",
                     color_discrete_sequence=SERIES_COLOURS, color_discrete_map=colours, labels=labels,
                     custom_data=["row"])
    if grain:
        date_ticks(fig, [p.date() for p in pd.to_datetime(data["period"])], grain)
    if measure in RATES:
        fig.update_yaxes(tickformat=".1%")
    by = i18n.join_words([dim_name(d, lang) for d in dims + (["period"] if grain else [])], lang)
    title = i18n.t("explore.chart_title", lang, measure=measure_name(measure, lang), by=by or "–")
    fig.update_layout(title=dict(text=escape(title, quote=False), x=0, xanchor="left"), height=420,
                      margin=dict(l=10, r=10, t=48, b=10), legend=dict(orientation="h", y=-0.25, title=None))
    return fig


def _series_column(data: pd.DataFrame, dims: list[str]) -> str | None:
    """One colour per value of these dimensions (joined with " · " when two)."""
    if not dims:
        return None
    data["series"] = data[[_col(d) for d in dims]].astype(str).agg(" · ".join, axis=1)
    return "series"
