"""Argument checks shared by every public function: one place for seeds, draw counts, choices and flags.

Each check raises :class:`econ.errors.SpecificationError` naming the argument and the value it got, so a wrong
argument never reaches numpy or pandas as a raw TypeError.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Hashable, Iterable, Mapping

import numpy as np

from econ.errors import SpecificationError

__all__ = ["check_seed", "check_int", "check_real", "check_choice", "check_bool", "check_n_draws", "rng",
           "require_columns",
           "check_column_name", "py_scalar", "show_values"]


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int (bools and non-integral floats refused), within ``[minimum, maximum]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise SpecificationError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or float(value) != int(value):
            raise SpecificationError(f"{name} must be an integer, got {value!r}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise SpecificationError(f"{name} must be at least {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise SpecificationError(f"{name} must be at most {maximum}, got {out}")
    return out


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               open_low: bool = False, open_high: bool = False) -> float:
    """``value`` as a finite Python float (bools refused) within ``low``/``high`` (closed unless ``open_*``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise SpecificationError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    out = float(value)
    if not np.isfinite(out):
        raise SpecificationError(f"{name} must be finite, got {value!r}")
    if low is not None and (out < low or (open_low and out == low)):
        raise SpecificationError(f"{name} must be {'>' if open_low else '>='} {low:g}, got {out:g}")
    if high is not None and (out > high or (open_high and out == high)):
        raise SpecificationError(f"{name} must be {'<' if open_high else '<='} {high:g}, got {out:g}")
    return out


def check_seed(seed, name: str = "seed") -> int | np.random.SeedSequence | np.random.Generator | None:
    """A seed ``numpy.random.default_rng`` accepts: ``None``, a non-negative int, a SeedSequence or a Generator."""
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    return check_int(seed, name, minimum=0)


def rng(seed, name: str = "seed") -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` after :func:`check_seed`."""
    return np.random.default_rng(check_seed(seed, name))


def check_choice(value, name: str, choices: Iterable[str]):
    """``value`` must be one of ``choices`` (compared as given; strings are not case-folded)."""
    choices = list(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable / incomparable values
        ok = False
    if not ok:
        raise SpecificationError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_bool(value, name: str) -> bool:
    """A real boolean flag (``True``/``False``; numpy bools accepted), not a truthy string or number."""
    if not isinstance(value, (bool, np.bool_)):
        raise SpecificationError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_n_draws(n_draws, *, minimum: int = 0, aliases: Mapping[str, object] | None = None) -> int:
    """The number of random draws, ``n_draws`` everywhere in econ.

    ``aliases`` maps a legacy or peer name (``n``, ``B``, ``permutations``, ``n_boot``) to the value a caller passed
    under it (``None`` when not passed); at most one of ``n_draws`` and the aliases may be given.
    """
    given = {k: v for k, v in (aliases or {}).items() if v is not None}
    if len(given) > 1:
        raise SpecificationError(f"give the number of draws once, as n_draws; got {sorted(given)}")
    if given:
        (alias, value), = given.items()
        if n_draws is not None:
            raise SpecificationError(f"give the number of draws once: n_draws={n_draws!r} and {alias}={value!r}")
        return check_int(value, alias, minimum=minimum)
    if n_draws is None:
        raise SpecificationError("n_draws (the number of random draws) is required")
    return check_int(n_draws, "n_draws", minimum=minimum)


def check_column_name(name, what: str = "column", *, error=SpecificationError):
    """A column label: a string (or another hashable label such as an int); lists, dicts and None are refused.

    Examples
    --------
    >>> check_column_name("year", "time")
    'year'
    """
    if name is None or isinstance(name, (bool, np.bool_)) or not isinstance(name, Hashable) or \
            isinstance(name, (tuple, frozenset)):
        raise error(f"{what} must be a column name (a string), got {name!r} ({type(name).__name__})")
    return name


def not_numeric(col, series, what: str = "column") -> str:
    """The message for a column that should hold numbers and does not: its dtype, what that dtype means and what
    to do."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        meaning, fix = "True/False values", f"convert it with data[{col!r}].astype(int)"
    else:
        if isinstance(dtype, pd.CategoricalDtype):
            meaning = "categorical labels"
        elif pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            meaning = "dates or durations"
        elif pd.api.types.is_string_dtype(dtype):
            meaning = "text (or values of mixed types)"
        else:
            meaning = "values that are not numbers"
        fix = (f"convert it with pd.to_numeric(data[{col!r}]) if it holds numbers written as text, or turn its "
               "categories into 0/1 dummy columns")
    return f"{what} {col!r} is not numeric: dtype {dtype} ({meaning}); {fix}"


def require_columns(data, names, what: str = "column", *, error=SpecificationError) -> None:
    """The one column checker of econ: raise ``error`` naming every entry of ``names`` missing from ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        The frame whose columns are checked.
    names : iterable of str
        Column names that must be present (each a string or other hashable label).
    what : str
        What the columns are for (``"fixed-effect"``, ``"vcov"``, ...), used in the message.
    error : EconError subclass
        ``SpecificationError`` (a model refers to a column) or ``PanelError`` (the panel keys).

    Raises
    ------
    error
        ``unknown <what> column(s): 'x' (did you mean 'x1'?) not in the data; its columns are [...]``.

    Examples
    --------
    >>> import pandas as pd
    >>> try:
    ...     require_columns(pd.DataFrame({"income": [1]}), ["incme"], "outcome")
    ... except ValueError as err:
    ...     print(err)
    unknown outcome column(s): 'incme' (did you mean 'income'?) not in the data; its columns are ['income']
    """
    names = [check_column_name(c, f"{what} column", error=error) for c in names]
    columns = list(data.columns)
    missing = [c for c in dict.fromkeys(names) if c not in data.columns]
    if not missing:
        return
    hints = []
    for c in missing:
        close = difflib.get_close_matches(str(c), [str(x) for x in columns], n=3)
        hints.append(f"{c!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
    shown = columns[:20] + (["..."] if len(columns) > 20 else [])
    kind = "" if what in ("", "column") else f"{what} "
    raise error(f"unknown {kind}column(s): {', '.join(hints)} not in the data; its columns are {shown}")


def py_scalar(value):
    """A numpy scalar as the Python scalar it holds (so messages read 3, not np.int64(3))."""
    return value.item() if isinstance(value, np.generic) else value


def show_values(values, k: int = 5) -> str:
    """The first ``k`` values for an error message, ``[a, b] (+n more)``."""
    values = list(values)
    more = f" (+{len(values) - k} more)" if len(values) > k else ""
    return "[" + ", ".join(repr(py_scalar(v)) for v in values[:k]) + "]" + more
