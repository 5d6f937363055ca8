"""Reading and validating users' panels: the one boundary every estimator relies on.

``read_panel`` accepts a path (CSV, Stata ``.dta``, parquet) or a DataFrame; ``validate_panel`` is the check
estimators call on a DataFrame. Both return a new, sorted frame and never modify their input. Nothing is coerced
silently: a time column that is not integer-valued, a missing unit id or a duplicated (unit, time) key is an error
that names the rows concerned.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from econ.errors import PanelError

__all__ = ["read_panel", "validate_panel"]

_READERS = {
    ".csv": pd.read_csv,
    ".txt": pd.read_csv,
    ".dta": pd.read_stata,
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
}


def read_panel(source, unit: str, time: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a panel from a CSV / Stata ``.dta`` / parquet file or a DataFrame and validate it.

    Parameters
    ----------
    source : str, Path or DataFrame
        The file to read (format chosen by suffix) or a DataFrame (copied, never modified).
    unit, time : str
        Names of the unit identifier and the time column. Time must be integer-valued (e.g. years).
    columns : list of str, optional
        Keep only these columns (plus ``unit`` and ``time``).

    Returns
    -------
    DataFrame sorted by (unit, time) with a fresh RangeIndex; ``time`` as int64.

    Raises
    ------
    PanelError
        Unknown suffix, missing columns, empty frame, missing unit ids, non-integer time, duplicate keys.
    """
    frame = _read(source)
    if columns is not None:
        wanted = [unit, time] + [c for c in columns if c not in (unit, time)]
        _require_columns(frame, wanted)
        frame = frame[wanted]
    return validate_panel(frame, unit, time)


def _read(source) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise PanelError(
            f"cannot read {path.name!r}: unknown suffix {path.suffix!r}; "
            f"expected one of {sorted(_READERS)} or a pandas DataFrame"
        )
    if not path.exists():
        raise PanelError(f"no such file: {path}")
    return reader(path)


def _require_columns(frame: pd.DataFrame, names) -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise PanelError(f"column(s) {missing} not in the data; available: {list(frame.columns)}")


def validate_panel(data: pd.DataFrame, unit: str, time: str) -> pd.DataFrame:
    """Check that ``data`` is a panel keyed by (unit, time) and return a sorted copy.

    Checks, each with a message naming the offending rows: the frame is non-empty; both key columns exist;
    no unit id is missing; time is present and integer-valued (floats such as 2015.0 are accepted, 2015.5 is
    not; strings are not converted); (unit, time) keys are unique.
    """
    if not isinstance(data, pd.DataFrame):
        raise PanelError(f"expected a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise PanelError("the panel is empty (0 rows)")
    _require_columns(data, [unit, time])
    if unit == time:
        raise PanelError(f"unit and time must be different columns, both are {unit!r}")
    frame = data.copy()
    _check_unit(frame, unit)
    frame[time] = _integer_time(frame, time)
    _check_unique(frame, unit, time)
    return frame.sort_values([unit, time], kind="mergesort").reset_index(drop=True)


def _check_unit(frame: pd.DataFrame, unit: str) -> None:
    missing = frame.index[frame[unit].isna()]
    if len(missing):
        raise PanelError(
            f"{len(missing)} row(s) with a missing unit id in column {unit!r}, first rows: {_rows(missing)}"
        )


def _integer_time(frame: pd.DataFrame, time: str) -> pd.Series:
    col = frame[time]
    if not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
        bad = col.map(lambda v: not isinstance(v, (int, np.integer)))
        raise PanelError(
            f"time column {time!r} must be numeric (integer-valued), got dtype {col.dtype}; "
            f"first non-numeric rows: {_rows(frame.index[bad.to_numpy()])}"
        )
    missing = frame.index[col.isna()]
    if len(missing):
        raise PanelError(f"{len(missing)} row(s) with missing time in column {time!r}, first rows: {_rows(missing)}")
    values = col.to_numpy(dtype=float)
    fractional = frame.index[values != np.round(values)]
    if len(fractional):
        raise PanelError(
            f"time column {time!r} must be integer-valued; {len(fractional)} row(s) are not, "
            f"first rows: {_rows(fractional)} (values {list(col.loc[fractional[:3]])})"
        )
    return col.astype("int64")


def _check_unique(frame: pd.DataFrame, unit: str, time: str) -> None:
    dup = frame.duplicated([unit, time], keep=False)
    if dup.any():
        keys = frame.loc[dup, [unit, time]].drop_duplicates()
        first = tuple(keys.iloc[0])
        raise PanelError(
            f"{len(keys)} duplicate ({unit}, {time}) key(s), first: {first} "
            f"at rows {_rows(frame.index[dup & (frame[unit] == first[0]) & (frame[time] == first[1])])}"
        )


def _rows(index, k: int = 5) -> str:
    shown = [str(i) for i in list(index[:k])]
    more = f" (+{len(index) - k} more)" if len(index) > k else ""
    return "[" + ", ".join(shown) + "]" + more
