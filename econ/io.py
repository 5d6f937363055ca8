"""Reading and validating users' panels: the one boundary every estimator relies on.

``read_panel`` accepts a path (CSV, Stata ``.dta``, parquet) or a DataFrame; ``validate_panel`` is the check
estimators call on a DataFrame. Both return a new, sorted frame and never modify their input. Nothing is coerced
silently: a time column that is not integer-valued, a missing unit id or a duplicated (unit, time) key is an error
that names the rows concerned.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd

from econ._validate import check_column_name, require_columns
from econ.errors import PanelError

__all__ = ["read_panel", "validate_panel"]

_MAX_TIME = 2.0**53  # larger periods are not exactly representable once mixed with floats

_READERS = {
    ".csv": pd.read_csv,
    ".txt": pd.read_csv,
    ".dta": pd.read_stata,
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
}


def read_panel(source, unit: str, time: str, *, columns: list[str] | None = None,
               encoding: str | None = None) -> pd.DataFrame:
    r"""Read a panel from a CSV / Stata ``.dta`` / parquet file or a DataFrame and validate it.

    Parameters
    ----------
    source : str, Path or DataFrame
        The file to read (format chosen by suffix) or a DataFrame (copied, never modified).
    unit, time : str
        Names of the unit identifier and the time column. Time must be integer-valued (e.g. years).
    columns : list of str, optional
        Keep only these columns (plus ``unit`` and ``time``).
    encoding : str, optional
        Text encoding of a CSV file. By default UTF-8 (with or without a byte-order mark) is tried first, then
        GB18030 (a superset of GBK/GB2312, the encodings of Chinese statistical yearbook files); the encoding used
        is stored in ``frame.attrs["encoding"]``.

    Returns
    -------
    DataFrame
        Sorted by (unit, time) with a fresh RangeIndex; ``time`` as int64. In CSV files, integer-looking columns
        written with leading zeros (codes such as ``"0101"``) and the unit column when it has leading zeros are
        kept as strings, so ``"0101"`` stays ``"0101"``.

    Raises
    ------
    PanelError
        A source that is not a path or DataFrame, a missing file, a directory, an unknown suffix, an undecodable
        CSV, missing columns, an empty frame, missing unit ids, non-integer or out-of-range time, duplicate keys.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "panel.csv"
    >>> _ = path.write_text("county,year,y\n0101,2015,1.0\n0101,2014,2.0\n0102,2014,3.0\n")
    >>> read_panel(path, "county", "year")
      county  year    y
    0   0101  2014  2.0
    1   0101  2015  1.0
    2   0102  2014  3.0
    """
    check_column_name(unit, "unit", error=PanelError)
    check_column_name(time, "time", error=PanelError)
    frame = _read(source, encoding, unit, time)
    if columns is not None:
        if isinstance(columns, str) or not isinstance(columns, (list, tuple, pd.Index)):
            raise PanelError(f"columns must be a list of column names, got {columns!r}")
        wanted = [unit, time] + [c for c in columns if c not in (unit, time)]
        require_columns(frame, wanted, error=PanelError)
        frame = frame[wanted]
    return validate_panel(frame, unit, time)


def _read(source, encoding, unit, time) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if not isinstance(source, (str, os.PathLike)):
        hint = "; build a DataFrame first: pd.DataFrame(...)" if isinstance(source, (dict, list)) else ""
        raise PanelError(f"read_panel needs a file path (str or Path) or a pandas DataFrame, got "
                         f"{type(source).__name__}{hint}")
    if encoding is not None and not isinstance(encoding, str):
        raise PanelError(f"encoding must be a string such as 'utf-8' or 'gb18030', got {encoding!r}")
    path = Path(source)
    if not path.exists():
        raise PanelError(f"no such file: {path}")
    if path.is_dir():
        raise PanelError(f"{path} is a directory; give the path of a CSV, .dta or parquet file")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise PanelError(f"cannot read {path.name!r}: {_unsupported(path.suffix)}")
    if reader is pd.read_csv:
        return _read_csv(path, encoding, time)
    try:
        return reader(path)
    except Exception as err:  # corrupt or mislabelled files: pandas/pyarrow raise many kinds
        raise PanelError(f"could not read {path}: {type(err).__name__}: {err}") from None


_SUPPORTED = "CSV (.csv, .txt; UTF-8, UTF-8 with BOM or GBK/GB18030), Stata (.dta) or parquet (.parquet, .pq)"
_SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".xlsb", ".ods")


def _unsupported(suffix: str) -> str:
    """Why a file of this suffix cannot be read, and what to do instead."""
    if suffix.lower() in _SPREADSHEETS:
        return (f"{suffix} spreadsheets are not a supported format; supported are {_SUPPORTED}. Save the sheet as "
                "CSV (e.g. 'CSV UTF-8'), or read it with pandas.read_excel and pass the DataFrame")
    what = f"the suffix {suffix!r}" if suffix else "a file without a suffix"
    return f"{what} is not a supported format; supported are {_SUPPORTED}, or pass a pandas DataFrame"


def _read_csv(path: Path, encoding, time) -> pd.DataFrame:
    tried = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in tried:
        try:
            frame = pd.read_csv(path, encoding=enc)
            text = pd.read_csv(path, encoding=enc, dtype=str)
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise PanelError(f"unknown encoding {enc!r} for {path}") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise PanelError(f"could not read {path} as CSV: {err}") from None
        frame = _keep_padded_codes(frame, text, time)
        frame.attrs["encoding"] = "utf-8" if enc == "utf-8-sig" else enc
        return frame
    raise PanelError(f"could not decode {path} as {' or '.join(tried)}; pass its encoding, e.g. "
                     "read_panel(..., encoding='big5') or encoding='latin-1'")


_LEADING_ZERO = r"^\s*[+-]?0[0-9]"


def _keep_padded_codes(frame: pd.DataFrame, text: pd.DataFrame, time) -> pd.DataFrame:
    """Numeric columns written with leading zeros (codes such as "0101") are kept as the strings in the file."""
    for c in frame.columns:
        if c != time and pd.api.types.is_numeric_dtype(frame[c]) and \
                text[c].dropna().str.match(_LEADING_ZERO).any():
            frame[c] = text[c]
    return frame


def validate_panel(data: pd.DataFrame, unit: str, time: str) -> pd.DataFrame:
    """Check that ``data`` is a panel keyed by (unit, time) and return a sorted copy.

    Checks, each with a message naming the offending rows: the frame is non-empty; both key columns exist;
    no unit id is missing and ids are of one comparable kind; time is present and integer-valued (floats such as
    2015.0 are accepted, 2015.5 is not; numbers stored in an object column are accepted, text such as ``"2015"``
    is not converted), within +-2^53; (unit, time) keys are unique.

    Parameters
    ----------
    data : pandas.DataFrame
        Never modified.
    unit, time : str
        The key columns.

    Returns
    -------
    DataFrame
        Sorted by (unit, time), fresh RangeIndex, time as int64.

    Raises
    ------
    PanelError
        Naming the argument, column or rows at fault.

    Examples
    --------
    >>> import pandas as pd
    >>> validate_panel(pd.DataFrame({"id": ["b", "a"], "year": [2015.0, 2014.0]}), "id", "year")
      id  year
    0  a  2014
    1  b  2015
    """
    if not isinstance(data, pd.DataFrame):
        raise PanelError(f"expected a pandas DataFrame, got {type(data).__name__}")
    check_column_name(unit, "unit", error=PanelError)
    check_column_name(time, "time", error=PanelError)
    if data.empty:
        raise PanelError("the panel is empty (0 rows)")
    require_columns(data, [unit, time], error=PanelError)
    if unit == time:
        raise PanelError(f"unit and time must be different columns, both are {unit!r}")
    if data.columns.duplicated().any():
        dup = list(pd.unique(data.columns[data.columns.duplicated()]))
        raise PanelError(f"duplicated column name(s) {dup}: every column needs its own name")
    frame = data.copy()
    _check_unit(frame, unit)
    as_int = _integer_time(frame, time)
    if frame[time].dtype != as_int.dtype:  # already int64: nothing to replace
        frame[time] = as_int
    if _sorted_unique(frame, unit, time):  # already in (unit, time) order with unique keys: nothing to sort
        return frame.reset_index(drop=True)
    _check_unique(frame, unit, time)
    try:
        return frame.sort_values([unit, time], kind="mergesort").reset_index(drop=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in frame[unit]})
        raise PanelError(f"unit ids in column {unit!r} mix types {kinds} that cannot be ordered; "
                         "convert them to one type, e.g. strings") from None


def _check_unit(frame: pd.DataFrame, unit: str) -> None:
    missing = frame.index[pd.isna(frame[unit]).to_numpy()]
    if len(missing):
        raise PanelError(
            f"{len(missing)} row(s) with a missing unit id in column {unit!r}, first rows: {_rows(missing)}"
        )


def _integer_time(frame: pd.DataFrame, time: str) -> pd.Series:
    col = frame[time]
    if col.dtype == object:  # numbers held in an object column (e.g. after concatenation) are accepted
        is_num = col.map(lambda v: v is None or (isinstance(v, (numbers.Real, np.number))
                                                   and not isinstance(v, (bool, np.bool_))))
        if is_num.all():
            col = pd.to_numeric(col)
    if not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
        bad = col.map(lambda v: not isinstance(v, (numbers.Real, np.number)) or isinstance(v, (bool, np.bool_))) \
            & col.notna()
        first = frame.index[bad.to_numpy()]
        example = f" (e.g. {col.loc[first[0]]!r} at row {first[0]})" if len(first) else ""
        raise PanelError(
            f"time column {time!r} must be numeric (integer-valued), got dtype {col.dtype}{example}; "
            f"first non-numeric rows: {_rows(first)}; convert it, e.g. pd.to_numeric(df[{time!r}])"
        )
    missing = frame.index[col.isna()]
    if len(missing):
        raise PanelError(f"{len(missing)} row(s) with missing time in column {time!r}, first rows: {_rows(missing)}")
    if pd.api.types.is_unsigned_integer_dtype(col) or pd.api.types.is_integer_dtype(col):
        big = frame.index[(col.astype(float).abs() > _MAX_TIME).to_numpy()]
    else:
        big = frame.index[~(col.abs() <= _MAX_TIME).to_numpy()]
    if len(big):
        raise PanelError(
            f"time column {time!r} has {len(big)} value(s) outside +-2^53 (first rows {_rows(big)}, values "
            f"{list(col.loc[big[:3]])}): not a period that integer arithmetic can represent exactly"
        )
    values = col.to_numpy(dtype=float)
    fractional = frame.index[values != np.round(values)]
    if len(fractional):
        raise PanelError(
            f"time column {time!r} must be integer-valued; {len(fractional)} row(s) are not, "
            f"first rows: {_rows(fractional)} (values {list(col.loc[fractional[:3]])})"
        )
    return col.astype("int64")


def _sorted_unique(frame: pd.DataFrame, unit: str, time: str) -> bool:
    """True when numeric unit ids and the (integer) times are strictly increasing in (unit, time) order: the
    frame is then sorted with unique keys, and sorting it (a stable sort) would change nothing."""
    u = frame[unit].to_numpy()
    if u.dtype.kind not in "iuf" or len(u) < 2:
        return False
    t = frame[time].to_numpy()
    same = u[1:] == u[:-1]
    return bool(((u[1:] > u[:-1]) | (same & (t[1:] > t[:-1]))).all())


def _check_unique(frame: pd.DataFrame, unit: str, time: str) -> None:
    try:
        dup = frame.duplicated([unit, time], keep=False)
    except TypeError:
        raise PanelError(f"unit ids in column {unit!r} must be numbers or strings, not lists or other "
                         "unhashable objects") from None
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
