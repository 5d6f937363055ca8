"""Shared validation of DiD designs: treatment and cohort columns, checked once at the public boundary.

Every DiD estimator in this package works on a panel validated by :func:`econ.io.validate_panel` (sorted copy,
unique integer-time keys) and then on one of two treatment descriptions:

* a **treatment column** ``treat``: either binary (0/1; must be absorbing -- once 1, a unit stays 1) or a
  continuous intensity (any real values, must vary);
* a **cohort column** ``cohort``: the first treated period of each unit, constant within unit; ``0`` or missing
  means never treated.

The helpers here turn either into per-unit cohorts and raise :class:`~econ.errors.TreatmentError` naming the offending
units when the design does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from econ._validate import require_columns
from econ.errors import SpecificationError, TreatmentError
from econ.io import validate_panel
from econ.results import WaldTest, wald  # noqa: F401  (re-exported for the DiD modules)

# Internal cohort code of never-treated units. Users write 0 or NaN; internally a sentinel larger than any period is
# used so that ``t >= cohort`` is simply False for them and a shifted fake cohort can never collide with it.
NEVER = np.iinfo(np.int64).max


def as_list(names) -> list[str]:
    """``None`` -> [], a string -> [string], any iterable -> list."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    return list(names)


def prepare_panel(data: pd.DataFrame, unit: str, time: str, columns: Sequence[str]) -> pd.DataFrame:
    """Validate the panel, keep ``unit``, ``time`` and ``columns`` and drop rows with missing model values.

    Returns a sorted copy (the input is never modified). Rows with a missing value in any model column are dropped
    and the number dropped is recorded in ``frame.attrs["dropped_missing"]`` so estimators can report it.
    """
    require_columns(data, [unit, time, *columns])
    keep = list(dict.fromkeys([unit, time, *columns]))
    frame = validate_panel(data[keep], unit, time)
    model_cols = [c for c in keep if c not in (unit, time)]
    if model_cols:
        bad = frame[model_cols].isna().any(axis=1)
        if bad.all():
            raise SpecificationError(f"every row has a missing value in at least one of {model_cols}")
        frame = frame.loc[~bad].reset_index(drop=True)
        frame.attrs["dropped_missing"] = int(bad.sum())
    else:
        frame.attrs["dropped_missing"] = 0
    return frame


def missing_notes(frame: pd.DataFrame) -> list[str]:
    """The design note for the rows :func:`prepare_panel` dropped (empty list when none were)."""
    dropped = frame.attrs.get("dropped_missing")
    return [f"{dropped} row(s) with missing values dropped"] if dropped else []


def fixed_effects(fe, unit: str, time: str) -> tuple[list[str], list[str]]:
    """The fixed effects to absorb (default ``[unit, time]``) and those among them that are extra columns to keep."""
    fe = [unit, time] if fe is None else as_list(fe)
    return fe, [c for c in fe if c not in (unit, time)]


def numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    """The column as float64, or a SpecificationError naming it when it is not numeric."""
    series = frame[col]
    if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        raise SpecificationError(f"column {col!r} must be numeric, got dtype {series.dtype}")
    return series.to_numpy(dtype=float)


def _show(units, k: int = 5) -> str:
    units = list(units)
    more = f" (+{len(units) - k} more)" if len(units) > k else ""
    return "[" + ", ".join(repr(u) for u in units[:k]) + "]" + more


def require_unit_constant(values: pd.Series, units: pd.Series, what: str, error=TreatmentError) -> None:
    """Raise ``error`` naming the units in which ``values`` (aligned with ``units``) takes more than one value."""
    spread = values.groupby(units, sort=False).nunique()
    bad = spread.index[spread > 1]
    if len(bad):
        raise error(f"{what} must be constant within unit; it varies for {len(bad)} unit(s) {_show(bad)}")


def is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def check_treatment(frame: pd.DataFrame, unit: str, time: str, treat: str) -> str:
    """Classify ``treat`` as "binary" or "continuous" and check it fits a DiD design.

    Binary treatment must be absorbing (no unit switches from 1 back to 0), have treated and untreated
    observations. A continuous intensity must vary. Returns the kind.
    """
    d = numeric(frame, treat)
    if (d == 1).all():
        raise TreatmentError(f"treatment {treat!r} is 1 in every row: there are no untreated observations")
    if d.min() == d.max():
        raise TreatmentError(f"treatment {treat!r} is constant ({d[0]:g}) in every row: nothing to compare")
    if not is_binary(d):
        return "continuous"
    # frame is sorted by (unit, time): a drop 1 -> 0 within a unit means the treatment switched off
    same_unit = frame[unit].to_numpy()[1:] == frame[unit].to_numpy()[:-1]
    off = same_unit & (np.diff(d) < 0)
    if off.any():
        rows = np.flatnonzero(off) + 1
        units = pd.unique(frame[unit].to_numpy()[rows])
        first = rows[0]
        raise TreatmentError(
            f"binary treatment {treat!r} is not absorbing: it switches from 1 back to 0 for {len(units)} unit(s) "
            f"{_show(units)} (first at {unit}={frame[unit].iat[first]!r}, {time}={frame[time].iat[first]!r}); "
            "staggered DiD assumes that once treated a unit stays treated"
        )
    return "binary"


def cohort_from_treatment(frame: pd.DataFrame, unit: str, time: str, treat: str) -> pd.Series:
    """First treated period of each unit (``NEVER`` for never-treated), from an absorbing binary treatment column.

    A unit treated in its first observed period is "always treated" within the panel; its cohort is that period.
    """
    d = frame[treat].to_numpy(dtype=float)
    first = frame.loc[d == 1].groupby(unit, sort=False)[time].min()
    cohort = pd.Series(NEVER, index=pd.unique(frame[unit]), dtype="int64")
    cohort.loc[first.index] = first.astype("int64")
    cohort.index.name = unit
    return cohort


def unit_cohorts(frame: pd.DataFrame, unit: str, time: str, cohort: str) -> pd.Series:
    """Per-unit cohort (first treated period; ``NEVER`` = never treated) from a cohort column, validated.

    The column must be constant within unit; missing and 0 both mean never treated; every other value must be a
    period inside the panel's time range (a cohort before the first period would be treated throughout, one after
    the last never observed treated -- both are almost always coding errors, so they are rejected).
    """
    raw = frame[cohort]
    if not pd.api.types.is_numeric_dtype(raw):
        raise TreatmentError(f"cohort column {cohort!r} must be numeric (first treated period), got {raw.dtype}")
    values = raw.to_numpy(dtype=float)
    never = np.isnan(values) | (values == 0)
    fractional = ~never & (values != np.round(values))
    if fractional.any():
        bad = pd.unique(frame[unit].to_numpy()[fractional])
        raise TreatmentError(f"cohort column {cohort!r} must hold integer periods; units {_show(bad)} do not")
    ints = np.nan_to_num(values).astype("int64")
    ints[never] = NEVER
    codes = pd.Series(ints, index=frame.index)
    require_unit_constant(codes, frame[unit], f"cohort column {cohort!r}")
    per_unit = codes.groupby(frame[unit], sort=False).first()
    per_unit.index.name = unit
    t_min, t_max = int(frame[time].min()), int(frame[time].max())
    treated = per_unit != NEVER
    outside = treated & ((per_unit < t_min) | (per_unit > t_max))
    if outside.any():
        bad = per_unit[outside]
        raise TreatmentError(
            f"cohort outside the panel years {t_min}-{t_max} for {len(bad)} unit(s) {_show(bad.index)} "
            f"(cohorts {sorted(pd.unique(bad))[:5]}); use 0 or NaN for never-treated units"
        )
    return per_unit


def check_comparison(cohorts: pd.Series, unit: str) -> None:
    """Require some comparison: a never-treated unit, or at least two cohorts (not-yet-treated units)."""
    treated = cohorts[cohorts != NEVER]
    if len(treated) == 0:
        raise TreatmentError(f"no unit is ever treated (every {unit} has cohort 0 / missing)")
    if len(treated) == len(cohorts) and treated.nunique() == 1:
        raise TreatmentError(
            f"all {len(cohorts)} units are treated in the same period {int(treated.iloc[0])}: there is no "
            "never-treated and no not-yet-treated comparison group"
        )


def default_vcov(vcov, unit: str):
    """The DiD default: standard errors clustered by unit (serial correlation within unit, Bertrand, Duflo and
    Mullainathan 2004)."""
    return {"CL1": unit} if vcov is None else vcov


_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTERNAL = re.compile(r"_econ_col[0-9]+(?![0-9])")


def fit(frame: pd.DataFrame, y: str, regressors: Sequence[str], fe: Sequence[str], vcov, weights=None):
    """Fit ``y ~ regressors | fe`` with :func:`econ.panel.feols` and return its Result.

    The DiD functions take column *names*, so any column name must work: names the formula parser cannot read
    (non-ASCII such as ``收入差距``, spaces, dots) are renamed to internal names for the fit and the result's
    coefficient names, outcome, fixed-effect and cluster labels are mapped back.
    """
    from econ.panel import feols

    used = [y, *regressors, *fe, *([weights] if isinstance(weights, str) else []), *_cluster_columns(vcov)]
    unsafe = [c for c in dict.fromkeys(used) if not _SAFE_NAME.match(str(c))]
    if not unsafe:
        return _feols(feols, frame, y, regressors, fe, vcov, weights)
    forward = {c: f"_econ_col{i}" for i, c in enumerate(unsafe)}
    back = {v: k for k, v in forward.items()}
    rn = lambda c: forward.get(c, c)  # noqa: E731
    res = _feols(feols, frame.rename(columns=forward), rn(y), [rn(c) for c in regressors], [rn(c) for c in fe],
                 _rename_vcov(vcov, forward), rn(weights) if isinstance(weights, str) else weights)
    return _restore_names(res, back)


def _feols(feols, frame, y, regressors, fe, vcov, weights):
    rhs = " + ".join(regressors) if regressors else "1"
    formula = f"{y} ~ {rhs}" + (f" | {' + '.join(fe)}" if fe else "")
    return feols(formula, frame, vcov=vcov, weights=weights)


def _cluster_columns(vcov) -> list[str]:
    if not isinstance(vcov, dict) or not vcov:
        return []
    key, value = next(iter(vcov.items()))
    if str(key).upper() in ("CL1", "CRV1", "CLUSTER", "CL2"):
        return [value] if isinstance(value, str) else list(value)
    return []


def _rename_vcov(vcov, forward):
    cols = _cluster_columns(vcov)
    if not cols:
        return vcov
    key, value = next(iter(vcov.items()))
    new = forward.get(value, value) if isinstance(value, str) else type(value)(forward.get(c, c) for c in value)
    return {key: new, **{k: v for k, v in vcov.items() if k != key}}


def _restore_names(res, back: dict):
    """Map internal column names back to the user's in the labels a reader sees."""
    def name(text):  # exact tokens: "_econ_col1" never matches inside "_econ_col10"
        if text is None:
            return text
        return _INTERNAL.sub(lambda m: str(back.get(m.group(0), m.group(0))), str(text))

    res._coef.index = [name(c) for c in res._coef.index]
    res._vcov.index = res._coef.index
    res._vcov.columns = res._coef.index
    res.depvar = name(res.depvar)
    res.fe_levels = {name(k): v for k, v in res.fe_levels.items()}
    res.cluster = name(res.cluster) if res.cluster is not None else None
    res.notes = [name(n) for n in res.notes]
    if hasattr(res, "fixef"):
        res.fixef = [name(f) for f in res.fixef]
    if hasattr(res, "formula"):
        res.formula = name(res.formula)
    return res


def add_notes(result, notes: Iterable[str]):
    """Append design notes to a Result's ``notes`` (whatever container the engine uses)."""
    notes = [n for n in notes if n]
    if not notes:
        return result
    if result.notes is None:
        result.notes = list(notes)
    else:
        result.notes = list(result.notes) + notes
    return result


def promote(base, cls):
    """Re-type a fitted Result as the subclass ``cls`` (same attributes; the DiD result classes only add methods
    and a few attributes)."""
    out = object.__new__(cls)
    out.__dict__.update(base.__dict__)
    return out


def comparison_notes(n_never: int) -> list[str]:
    """Name the missing never-treated group: the comparison then rests on not-yet-treated units alone."""
    if n_never:
        return []
    return ["no never-treated units: every comparison is with not-yet-treated units, so effects after the last "
            "cohort's adoption are identified only through the model's restrictions (e.g. binned end points, "
            "constant effects); staggered-robust estimators with a never-treated control group cannot be used"]

