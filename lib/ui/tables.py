"""Tables as people read them (issue #16): every st.dataframe goes through show_table, which keeps order and return
numbers whole, shows times to the minute and leaves empty cells empty, whatever the page forgot."""
import re

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

# SO-20261203-00028, RT-20261203-00001, or a link to one (a LinkColumn's value is the URL: …?no=SO-…)
NUMBER = re.compile(r"(?:^|[?&]no=)([A-Z]{2,}-\d{6,}-\d+)$")
NUMBER_WIDTH = "medium"   # 200 px: a 17-character number in either language with room to spare
CHAR_PX = 9               # a wider number (an imported one) gets this much per character, plus padding
_UNSET = object()


def number_width(longest: int):
    """A column width that shows a number of `longest` characters whole."""
    return NUMBER_WIDTH if longest <= 20 else CHAR_PX * longest + 24


def holds_numbers(values: pd.Series) -> int:
    """The length of the longest order or return number in `values` (0 when it holds none)."""
    found = (NUMBER.search(v) for v in values if isinstance(v, str))
    return max((len(m.group(1)) for m in found if m), default=0)


def _spec(values: pd.Series, spec):
    """The column's config with what it lacks: a width for numbers, a minute format for times."""
    longest = holds_numbers(values)
    if longest:
        if spec is None or isinstance(spec, str):
            return st.column_config.TextColumn(spec, width=number_width(longest))
        return spec if spec.get("width") else {**spec, "width": number_width(longest)}
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
    """show_table(data, column_config=…, **kwargs) with the columns' missing widths and formats filled in
    (`data` a DataFrame or a pandas Styler); returns what st.dataframe returns (the selection event)."""
    frame = data.data if isinstance(data, Styler) else data
    config = dict(column_config or {})
    for column in frame.columns:
        given = config.get(column, _UNSET)
        if given is None:   # hidden by the page
            continue
        spec = _spec(frame[column], None if given is _UNSET else given)
        if spec is not None:
            config[column] = spec
    shown = data if isinstance(data, Styler) else blank_missing(frame)
    return st.dataframe(shown, column_config=config, **kwargs)
