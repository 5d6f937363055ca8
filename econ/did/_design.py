"""Shared validation of DiD designs: treatment and cohort columns, checked once at the public boundary.

Every DiD estimator in this package works on a panel validated by :func:`econ.io.validate_panel` (sorted copy,
unique integer-time keys) and then on one of two treatment descriptions:

* a **treatment column** ``treat``: either binary (0/1; must be absorbing -- once 1, a unit stays 1) or a
  continuous intensity (any real values, must vary);
* a **cohort column** ``cohort``: the first treated period of each unit, constant within unit; parsed by the one
  design rule of :mod:`econ.did.design` (:func:`~econ.did.design.build_design`), which every DiD estimator calls.

The helpers here are the shared argument checks, the treatment checks and the regression fit; they raise
:class:`~econ.errors.TreatmentError` naming the offending units when the design does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from econ._validate import not_numeric, require_columns
from econ._validate import py_scalar as _py, show_values as _show  # noqa: F401  (used by the estimators)
from econ.errors import SpecificationError, TreatmentError
from econ.io import validate_panel

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


def check_name(value, arg: str, *, optional: bool = False):
    """A column name argument: a string (or another hashable scalar such as an int label), never a list or None.

    Raises SpecificationError naming the argument, so a wrong type never reaches pandas as a raw TypeError.
    """
    if value is None and optional:
        return None
    if value is None or isinstance(value, (list, tuple, set, dict, np.ndarray, pd.Series, pd.Index, float)) or \
            isinstance(value, (bool, np.bool_)):
        raise SpecificationError(f"{arg} must be a column name (str), got {value!r} ({type(value).__name__})")
    try:
        hash(value)
    except TypeError:
        raise SpecificationError(f"{arg} must be a column name (str), got {type(value).__name__}") from None
    return value


def check_names(values, arg: str) -> list:
    """A list of column names (``None`` -> [], one name -> [name]); each checked by :func:`check_name`."""
    iterable = values is None or isinstance(values, str) or (
        hasattr(values, "__iter__") and not isinstance(values, (pd.Series, pd.DataFrame, np.ndarray, dict)))
    names = as_list(values) if iterable else None
    if names is None:
        raise SpecificationError(f"{arg} must be a column name or a list of column names, got "
                                 f"{type(values).__name__}")
    return [check_name(v, f"{arg}[{i}]") for i, v in enumerate(names)]


def check_data(data) -> pd.DataFrame:
    """``data`` must be a pandas DataFrame (SpecificationError naming the type otherwise)."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    return data


def prepare_panel(data: pd.DataFrame, unit: str, time: str, columns: Sequence[str], *,
                  optional: Sequence[str] = ()) -> pd.DataFrame:
    """Validate the panel, keep ``unit``, ``time``, ``columns`` and ``optional``; drop rows with missing model values.

    Returns a sorted copy (the input is never modified). Rows with a missing value in any of ``columns`` are
    dropped and the number dropped is recorded in ``frame.attrs["dropped_missing"]`` so estimators can report it.
    ``optional`` columns are kept as they are, missing values included: a cohort column (missing = never treated)
    and the columns a covariance uses (cluster ids, coordinates), which the regression engine checks itself.
    """
    check_data(data)
    check_name(unit, "unit")
    check_name(time, "time")
    require_columns(data, [unit, time, *columns, *optional])
    keep = list(dict.fromkeys([unit, time, *columns, *optional]))
    frame = validate_panel(data[keep], unit, time)
    model_cols = [c for c in dict.fromkeys(columns) if c not in (unit, time)]
    if model_cols:
        bad = np.zeros(len(frame), dtype=bool)
        for col in model_cols:  # column by column: no sub-frame copy
            bad |= frame[col].isna().to_numpy()
        if bad.all():
            raise SpecificationError(f"every row has a missing value in at least one of {model_cols}")
        if bad.any():
            frame = frame.loc[~bad].reset_index(drop=True)
        frame.attrs["dropped_missing"] = int(bad.sum())
        for col in model_cols:
            require_finite(frame, col)
    else:
        frame.attrs["dropped_missing"] = 0
    return frame


def require_finite(frame: pd.DataFrame, col: str) -> None:
    """SpecificationError naming the rows where the numeric column ``col`` is +/-inf (e.g. log of 0)."""
    series = frame[col]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isinf(values)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise SpecificationError(f"column {col!r} has {len(rows)} infinite value(s) (e.g. the log of 0), first rows "
                                 f"{frame.index[rows[:5]].tolist()}: drop or recode them")


def vcov_columns(vcov, unit: str, time: str) -> list:
    """The data columns a covariance spec reads (cluster ids, Driscoll-Kraay time, Conley coordinates)."""
    from econ.panel.vcov import parse_vcov

    if vcov is None:
        return []
    return [c for c in parse_vcov(vcov, time=time, unit=unit).columns() if c is not None]


def drop_absorbed(frame: pd.DataFrame, covariates: Sequence[str], fe: Sequence[str]) -> tuple[list, list[str]]:
    """Covariates that vary within the groups of every fixed effect, and a note naming those that do not.

    A covariate constant within each unit (time-invariant) is absorbed by the unit effects, one constant within
    each period by the time effects: like fixest, they are dropped with a note rather than refused.
    """
    kept, notes = [], []
    for c in covariates:
        by = [f for f in fe if (frame.groupby(f, sort=False)[c].nunique(dropna=False) <= 1).all()]
        if by:
            notes.append(f"covariate {c!r} is constant within {by[0]!r}: absorbed by the {by[0]} fixed effects and "
                         "dropped")
        else:
            kept.append(c)
    return kept, notes


def missing_notes(frame: pd.DataFrame) -> list[str]:
    """The design note for the rows :func:`prepare_panel` dropped (empty list when none were)."""
    dropped = frame.attrs.get("dropped_missing")
    return [f"{dropped} row(s) with missing values dropped"] if dropped else []


def fixed_effects(fe, unit: str, time: str) -> tuple[list[str], list[str]]:
    """The fixed effects to absorb (default ``[unit, time]``) and those among them that are extra columns to keep."""
    fe = [unit, time] if fe is None else check_names(fe, "fe")
    return fe, [c for c in fe if c not in (unit, time)]


def numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    """The column as float64, or a SpecificationError naming it when it is not numeric."""
    series = frame[col]
    if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        raise SpecificationError(not_numeric(col, series))
    return series.to_numpy(dtype=float, na_value=np.nan)


def require_unit_constant(values: pd.Series, units: pd.Series, what: str, error=TreatmentError) -> None:
    """Raise ``error`` naming the units in which ``values`` (aligned with ``units``) takes more than one value."""
    spread = values.groupby(units, sort=False).nunique(dropna=False)  # a value and a missing value also differ
    bad = spread.index[spread > 1]
    if len(bad):
        raise error(f"{what} must be constant within unit; it varies for {len(bad)} unit(s) {_show(bad)}")


def is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


SWITCHING_HINT = ("for a treatment that switches on and off or changes level over time use econ.did.did_multiplegt; "
                  "for a dose fixed within unit, econ.did.cont_did")


def check_treatment(frame: pd.DataFrame, unit: str, time: str, treat: str, *, intensity: bool = True) -> str:
    """Classify ``treat`` as "binary" or "continuous" and check it fits an absorbing-treatment DiD design.

    The one rule for every estimator that reads a treatment column (``build_design(treat=...)`` and so ``placebo``,
    ``spatial_did`` and the Monte Carlo wrappers; ``twfe``, ``subgroups``): the treatment must have treated and
    untreated observations and be *absorbing*: a 0/1 dummy never goes from 1 back to 0 within a unit. A non-binary
    column is refused (TreatmentError naming units and pointing to ``did_multiplegt`` / ``cont_did``) unless
    ``intensity`` is true, and then it must start once and stay: zero, then one non-zero level to the end of the
    unit's rows (a staggered dose). Rows are sorted by (unit, time). Returns the kind.
    """
    d = numeric(frame, treat)
    if (d == 1).all():
        raise TreatmentError(f"treatment {treat!r} is 1 in every row: there are no untreated observations")
    if d.min() == d.max():
        raise TreatmentError(f"treatment {treat!r} is constant ({d[0]:g}) in every row: nothing to compare")
    ids = frame[unit].to_numpy()
    binary = is_binary(d)
    if not binary and not intensity:
        rows = np.flatnonzero(~np.isin(d, (0.0, 1.0)))
        units = pd.unique(ids[rows])
        raise TreatmentError(
            f"treatment {treat!r} is not a 0/1 dummy: {len(units)} unit(s) {_show(units)} have other values (e.g. "
            f"{unit}={_py(ids[rows[0]])!r}, {time}={_py(frame[time].iat[rows[0]])!r}: {d[rows[0]]:g}); this "
            f"estimator needs an absorbing 0/1 treatment or a cohort column -- {SWITCHING_HINT}")
    # frame is sorted by (unit, time): a change after the treatment started within a unit means it is not absorbing
    same_unit = ids[1:] == ids[:-1]
    moved = same_unit & (d[1:] != d[:-1]) & (d[:-1] != 0)
    if moved.any():
        rows = np.flatnonzero(moved) + 1
        units = pd.unique(ids[rows])
        first = rows[0]
        where = (f"(first at {unit}={_py(frame[unit].iat[first])!r}, {time}={_py(frame[time].iat[first])!r}"
                 f": {d[first - 1]:g} -> {d[first]:g})")
        if binary:
            what = f"binary treatment {treat!r} is not absorbing: it switches off (from 1 back to 0)"
        else:
            what = f"treatment intensity {treat!r} is not absorbing: it switches off or changes level after it starts"
        raise TreatmentError(f"{what} for {len(units)} unit(s) {_show(units)} {where}; staggered DiD assumes that "
                             f"once treated a unit stays treated -- {SWITCHING_HINT}")
    return "binary" if binary else "continuous"


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


def fit(frame: pd.DataFrame, y: str, regressors: Sequence[str], fe: Sequence[str], vcov, weights=None, *,
        unit: str | None = None, time: str | None = None, notes: Iterable[str] = (), result=None, **attrs):
    """Fit ``y ~ regressors | fe`` with :func:`econ.panel.feols`; return ``result(...)`` built by its constructor.

    ``result`` is :class:`econ.panel.feols.FeolsResult` (default) or a subclass whose constructor takes the extra
    keyword arguments ``attrs`` (e.g. :class:`econ.did.EventStudyResult`); ``notes`` are appended to the engine's.
    ``unit`` and ``time`` are handed to the engine for covariances that need the panel structure (Driscoll-Kraay,
    Conley).

    The DiD functions take column *names*, so any column name must work: names the formula parser cannot read
    (non-ASCII such as ``收入差距``, spaces, dots) are renamed to internal names ``_econ_col<i>`` for the fit, and
    every label of the result is mapped back: coefficient, outcome and fixed-effect names exactly (a name is
    replaced only by its own original, so ``_econ_col1`` can never match inside ``_econ_col10``), free text
    (notes, formula) token by token.
    """
    from econ.panel import feols
    from econ.panel.feols import FeolsResult

    result = FeolsResult if result is None else result
    wcol = [weights] if isinstance(weights, str) else []
    used = [y, *regressors, *fe, *wcol, *vcov_columns(vcov, unit, time), *[c for c in (unit, time) if c is not None]]
    unsafe = [c for c in dict.fromkeys(used) if not _SAFE_NAME.match(str(c))]
    forward = {c: f"_econ_col{i}" for i, c in enumerate(unsafe)}
    back = {v: k for k, v in forward.items()}
    rn = lambda c: forward.get(c, c)  # noqa: E731
    work = frame.rename(columns=forward) if forward else frame
    rhs = " + ".join(rn(c) for c in regressors) if regressors else "1"
    formula = f"{rn(y)} ~ {rhs}" + (f" | {' + '.join(rn(c) for c in fe)}" if fe else "")
    res = feols(formula, work, vcov=_rename_spec(vcov, forward), weights=rn(weights) if wcol else weights,
                unit=rn(unit) if unit is not None else None, time=rn(time) if time is not None else None)
    fields = _fields(res, back)
    fields["notes"] = fields["notes"] + [n for n in notes if n]
    return result(**fields, **attrs)


def _rename_spec(spec, forward: dict):
    """The vcov spec with every column name the fit renamed replaced by its internal name."""
    if not forward:
        return spec
    if isinstance(spec, str):
        return forward.get(spec, spec)
    if isinstance(spec, dict):
        return {k: _rename_spec(v, forward) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return type(spec)(_rename_spec(v, forward) for v in spec)
    return spec


def _fields(res, back: dict) -> dict:
    """Constructor arguments of :class:`~econ.panel.feols.FeolsResult` that rebuild ``res`` with the user's labels."""
    def label(name):  # an exact name: only its own original replaces it
        return back.get(name, name) if isinstance(name, str) else name

    def text(value):  # free text: each internal token replaced by its own original
        if not back or not isinstance(value, str):
            return value
        return _INTERNAL.sub(lambda m: str(back.get(m.group(0), m.group(0))), value)

    names = [label(c) for c in res.coef.index]
    n_clusters = res.n_clusters
    if isinstance(n_clusters, dict):
        n_clusters = {text(k): v for k, v in n_clusters.items()}
    return dict(
        coef=pd.Series(res.coef.to_numpy(), index=names, dtype=float),
        vcov=pd.DataFrame(res.vcov.to_numpy(), index=names, columns=names),
        nobs=res.nobs, df_resid=res.df_resid, df_t=res.df_t, r2=res.r2, r2_within=res.r2_within,
        fe_levels={label(k): v for k, v in res.fe_levels.items()}, resid=res.resid, fitted=res.fitted,
        notes=[text(n) for n in res.notes], model=res.model, depvar=label(res.depvar), vcov_type=text(res.vcov_type),
        cluster=text(res.cluster), n_clusters=n_clusters, extra=dict(res.extra), formula=text(res.formula),
        fixef=[label(f) for f in res.fixef], design=res.design, data=res._data, ssc=res.ssc,
        vcov_spec=res._vcov_spec, panel=res._panel, n_units=res.n_units,
    )


def comparison_notes(n_never: int) -> list[str]:
    """Name the missing never-treated group: the comparison then rests on not-yet-treated units alone."""
    if n_never:
        return []
    return ["no never-treated units: every comparison is with not-yet-treated units, so effects after the last "
            "cohort's adoption are identified only through the model's restrictions (e.g. binned end points, "
            "constant effects); staggered-robust estimators with a never-treated control group cannot be used"]



ROBUST_ESTIMATORS = ("econ.did.att_gt (Callaway and Sant'Anna 2021), econ.did.sun_abraham (Sun and Abraham 2021) "
                     "and econ.did.imputation (Borusyak, Jaravel and Spiess 2024); econ.did.compare sets them side "
                     "by side")


def staggered_notes(cohorts: pd.Series, what: str) -> list[str]:
    """With more than one treated cohort, point to the heterogeneity-robust estimators (``what`` names the model)."""
    treated = cohorts[cohorts != NEVER]
    if treated.nunique() < 2:
        return []
    return [f"staggered adoption ({treated.nunique()} cohorts): {what} compares later- with earlier-treated units "
            "and its weights on cohort-period effects can be negative when effects change over time (Goodman-Bacon "
            f"2021; de Chaisemartin and D'Haultfoeuille 2020); heterogeneity-robust estimators: {ROBUST_ESTIMATORS}"]


def check_identified(frame: pd.DataFrame, unit: str, time: str, cohorts: pd.Series, what: str = "treatment") -> None:
    """Raise TreatmentError when no treated unit is observed both before and after its treatment.

    Then the treatment dummy is constant within every unit (absorbed by the unit effects) and the DiD coefficient
    is not identified: a single period, or every treated unit treated from its first observed period.
    """
    periods = frame[time].nunique()
    if periods < 2:
        raise TreatmentError(f"the panel has a single period ({time}={frame[time].iat[0]!r}): a difference-in-"
                             f"differences needs observations before and after treatment")
    first = frame.groupby(unit, sort=False)[time].min().reindex(cohorts.index)
    last = frame.groupby(unit, sort=False)[time].max().reindex(cohorts.index)
    treated = cohorts != NEVER
    informative = treated & (cohorts > first) & (cohorts <= last)
    if not informative.any():
        raise TreatmentError(
            f"the {what} is not identified: none of the {int(treated.sum())} treated unit(s) is observed both before "
            f"and after its treatment (every treated unit is treated from its first observed period, e.g. "
            f"{unit}={_show(cohorts.index[treated], 3)}), so the treatment dummy is absorbed by the unit fixed effects")


def cluster_column(vcov, cluster, unit, estimator: str):
    """The cluster column of an influence-function estimator: ``vcov=`` (None, a column, or ``{"CL1": column}``) or
    its alias ``cluster=``; ``None`` means the unit (the estimators' own level). Other covariances do not apply to
    influence-function inference and raise a SpecificationError naming ``estimator``."""
    if vcov is not None:
        col = vcov.get("CL1") if isinstance(vcov, dict) and set(vcov) == {"CL1"} else vcov
        if not (isinstance(col, str) and col not in ("iid", "hetero", "HC1")):
            raise SpecificationError(
                f"{estimator}: vcov must be None (clustered by {unit!r}) or {{'CL1': column}} with a column constant "
                f"within unit; got {vcov!r} -- influence-function standard errors are clustered at least by unit")
        if cluster is not None and cluster != col:
            raise SpecificationError(f"{estimator}: vcov={vcov!r} and cluster={cluster!r} disagree; give one of them")
        cluster = col
    return None if cluster == unit else cluster


def refuse_weights(weights, who: str, reason: str) -> None:
    """The one refusal of ``weights=`` by an estimator that has no sampling-weighted version (``reason`` says why)."""
    if weights is not None:
        raise SpecificationError(f"{who} does not take weights= (sampling weights): {reason}")
