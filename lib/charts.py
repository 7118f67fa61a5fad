"""DataFrame -> Plotly figure, pure functions; titles and axes come in already translated."""
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

# One colour per reason code, so a reason keeps its colour on every chart.
PALETTE = px.colors.qualitative.Safe


def _layout(fig: go.Figure, title: str | None) -> go.Figure:
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
    return _layout(fig, title)
