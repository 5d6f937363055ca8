"""The columns every ``tidy()`` in econ shares (see :class:`econ.results.ResultProtocol`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

TIDY_COLUMNS = ("term", "estimate", "std_error", "p_value", "conf_low", "conf_high")


def standard_columns(frame: pd.DataFrame, **columns) -> pd.DataFrame:
    """``frame`` with the six standard columns first and its own columns after (a copy; nothing renamed).

    Each keyword names a standard column and gives its values: the name of a column of ``frame`` (copied), or
    values / a constant. A standard column neither in ``frame`` nor given is NaN (e.g. the standard error of a
    test statistic).
    """
    out = frame.copy()
    for name, src in columns.items():
        out[name] = out[src] if isinstance(src, str) and src in out else src
    for col in TIDY_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[[*TIDY_COLUMNS, *[c for c in out.columns if c not in TIDY_COLUMNS]]]
