"""Tables as people read them (issue #16): every st.dataframe goes through show_table, which keeps order and return
numbers whole, shows times to the minute and leaves empty cells empty, whatever the page forgot."""
import re

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from lib.ui.context import tr

# SO-20261203-00028, RT-20261203-00001, or a link to one (a LinkColumn's value is the URL: …?no=SO-…); a column of
# these names holds numbers whatever they look like (an imported order keeps the ERP's number).
NUMBER = re.compile(r"(?:^|[?&]no=)([A-Z]{2,}-\d{6,}-\d+)$")
LINKED = re.compile(r"[?&]no=([^&]+)$")
NUMBER_COLUMNS = ("order_no", "return_no", "link", "order_link")
# Measured in Chromium at 1280 px: SO-20261203-00028 fills ~135 px of a cell in either language. A fixed width, not
# the grid's own sizing, which looks at the first rows only (a ledger's first rows may have no order at all).
CHAR_PX, PADDING_PX = 8, 24
_UNSET = object()


def number_width(longest: int) -> int:
    """A column width in pixels that shows a number of `longest` characters whole."""
    return CHAR_PX * longest + PADDING_PX


def holds_numbers(column, values: pd.Series) -> int:
    """The length of the longest order or return number in `values` (0 when it holds none)."""
    texts = [v for v in values if isinstance(v, str)]
    if column in NUMBER_COLUMNS:
        return max((len(m.group(1) if (m := LINKED.search(v)) else v) for v in texts), default=0)
    return max((len(m.group(1)) for v in texts if (m := NUMBER.search(v))), default=0)


def _px(width) -> int:
    return {"small": 75, "medium": 200, "large": 400}.get(width, width if isinstance(width, int) else 0)


def _spec(column, values: pd.Series, spec):
    """The column's config with what it lacks: a width that shows numbers whole, a minute format for times."""
    longest = holds_numbers(column, values)
    if longest:
        if spec is None or isinstance(spec, str):
            return st.column_config.TextColumn(spec, width=number_width(longest))
        return spec if _px(spec.get("width")) >= number_width(longest) else {**spec, "width": number_width(longest)}
    if pd.api.types.is_datetime64_any_dtype(values) and (spec is None or isinstance(spec, str)):
        return st.column_config.DatetimeColumn(spec, format="YYYY-MM-DD HH:mm")
    return spec


def is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns with "" where a value is missing (st.dataframe would show "None")."""
    out = frame.copy()
    for column in out.columns:
        if is_text(out[column]) and out[column].isna().any():
            out[column] = out[column].where(out[column].notna(), "")
    return out


def show_table(data, *, column_config: dict | None = None, **kwargs):
    """st.dataframe(data, column_config=…, **kwargs) with the columns' missing widths and formats filled in and
    missing values shown as empty cells (`data` a DataFrame or a pandas Styler); returns what st.dataframe returns
    (the selection event). A table without rows is a caption in the reader's words instead (the grid would say
    "empty", in English)."""
    frame = data.data if isinstance(data, Styler) else data
    if frame.empty:
        st.caption(tr("table.empty"))
        return None
    config = dict(column_config or {})
    for column in frame.columns:
        given = config.get(column, _UNSET)
        if given is None:   # hidden by the page
            continue
        spec = _spec(column, frame[column], None if given is _UNSET else given)
        if spec is not None:
            config[column] = spec
    shown = data if isinstance(data, Styler) else blank_missing(frame)
    return st.dataframe(shown, column_config=config, **({"placeholder": ""} | kwargs))
