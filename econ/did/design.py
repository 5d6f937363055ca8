"""The staggered-adoption design: one object every DiD estimator builds once, with one rule for each choice.

:func:`build_design` validates a long panel and its treatment timing and returns a :class:`StaggeredDesign`.
``twfe``, ``event_study``, ``placebo``, ``att_gt``, ``sun_abraham``, ``imputation``, ``bacon``, ``compare``,
``spatial_did`` and the Monte Carlo wrappers all start from it, so the same data give the same sample everywhere.

The rules (each sample change is recorded once in ``design.notes`` and warned as :class:`econ.errors.EconWarning`):

* **cohort** (first treated period, constant within unit): ``0``, ``NaN``, ``None``, ``pd.NA``, ``inf`` and empty
  strings mean *never treated*; strings holding integers (``"2015"``) and categoricals are read as integers;
  negative (e.g. ``-1``), fractional or non-numeric cells raise :class:`~econ.errors.TreatmentError` naming the
  rows. A cohort after the last observed period (plus ``anticipation``) is never treated within the sample: it is
  recoded to never treated (R ``did``'s rule) with a warning.
* **always-treated units** (cohort at or before the first panel period plus ``anticipation``) have no
  pre-treatment period: they are dropped.
* **balance**: ``"keep"`` (estimators that allow unbalanced panels), ``"drop"`` (units not observed in every
  period are dropped) or ``"refuse"`` (a PanelError naming them).
* **comparison group** ``control``: ``"never"``, ``"notyet"`` or ``"last"``. Wherever the last-treated cohort
  serves as control (``control="last"``, or no never-treated unit with ``control="never"``), its periods from
  adoption (minus anticipation) on leave the sample: :meth:`StaggeredDesign.last_cohort_as_control`.
* rows with a missing outcome, covariate or cluster are dropped; a missing or negative sampling weight is an
  error (:class:`~econ.errors.WeightsError` naming the rows): one rule for every DiD estimator.

Repeated cross-sections (``panel="rcs"``: ``unit`` a row id that may not repeat; each row is its own "unit" and
carries its group's cohort), continuous doses (``dose=``) and sampling weights (``weights=``, the one name for
regression and sampling weights in every estimator) are fields here, so no estimator needs a second parser.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from econ.did._design import NEVER, _py, _show, check_comparison, check_data, check_name, check_names, \
    check_treatment, cohort_from_treatment, prepare_panel, vcov_columns
from econ._validate import not_numeric
from econ.errors import EconWarning, PanelError, SpecificationError, TreatmentError, WeightsError

__all__ = ["StaggeredDesign", "build_design", "read_cohorts"]

CONTROLS = ("never", "notyet", "last")
BALANCE = ("keep", "drop", "refuse")


@dataclass
class StaggeredDesign:
    """A validated staggered-adoption panel: the sample every DiD estimator uses.

    Attributes
    ----------
    frame : DataFrame
        Sorted long panel (a copy) after every sample rule; the cohort column (when given) holds the canonical
        codes (int64 first treated period, 0 = never treated).
    unit, time, y : str
        Column names.
    cohorts : Series
        First treated period per unit (index: unit ids in panel order), ``NEVER`` for never-treated units.
    periods : ndarray
        Sorted periods of the sample.
    notes : list of str
        Every sample change and design fact, in order.
    control : str
        ``"never"``, ``"notyet"`` or ``"last"``.
    anticipation : int
        Periods of anticipation (cohort ``g`` is affected from ``g - anticipation``).
    covariates : list of str
    weights, cluster : str or None
    balanced : bool
        Every unit is observed in every period.
    panel : str
        ``"panel"`` or ``"rcs"`` (repeated cross-sections: ``unit`` is a row id, unique per row).
    dose : str or None
        Treatment-intensity column (fixed within unit, non-negative, no missing values; checked by
        :func:`econ.did.intensity._dose.check_dose`), used by :func:`econ.did.cont_did`.

    Examples
    --------
    >>> import warnings
    >>> from econ import datasets
    >>> from econ.did.design import build_design
    >>> df = datasets.load("mpdta").rename(columns={"first.treat": "g"})
    >>> treated_only = df[df["g"] > 0]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     d = build_design(treated_only, "lemp", "countyreal", "year", "g", control="last")
    >>> d.treated_cohorts.tolist(), d.periods.tolist()
    ([2004, 2006], [2003, 2004, 2005, 2006])
    >>> d.notes[-1]
    'the last-treated cohort (2007) is the control group: periods from 2007 on leave the sample'
    >>> caught[-1].category.__name__
    'EconWarning'
    """

    frame: pd.DataFrame
    unit: str
    time: str
    y: str | None
    cohorts: pd.Series
    periods: np.ndarray
    notes: list = field(default_factory=list)
    control: str = "never"
    anticipation: int = 0
    covariates: list = field(default_factory=list)
    weights: str | None = None
    cluster: str | None = None
    balanced: bool = True
    panel: str = "panel"
    dose: str | None = None

    @property
    def n_never(self) -> int:
        """Number of never-treated units."""
        return int((self.cohorts == NEVER).sum())

    @property
    def treated_cohorts(self) -> np.ndarray:
        """Sorted distinct cohorts of the treated units."""
        return np.unique(self.cohorts[self.cohorts != NEVER].to_numpy())

    def row_cohorts(self) -> np.ndarray:
        """Cohort of each row of ``frame`` (``NEVER`` for never treated), int64."""
        return self.cohorts.to_numpy(dtype="int64")[self.cohorts.index.get_indexer(self.frame[self.unit])]

    def change(self, message: str) -> None:
        """Record a sample change: a note and an :class:`EconWarning` attributed to the user's line that called
        econ (so the same change reached through several estimators, e.g. in ``compare``, is shown once)."""
        self.notes.append(message)
        warnings.warn(message, EconWarning, stacklevel=_outside_econ())

    def last_cohort_as_control(self) -> StaggeredDesign:
        """The design in which the last-treated cohort is the control group (Sun and Abraham 2021; R ``did`` with
        no never-treated units): periods from its adoption minus anticipation on leave the sample, never-treated
        units (if any) are dropped, and the last cohort is coded never treated. Requires two treated cohorts."""
        cohorts = self.treated_cohorts
        if len(cohorts) < 2:
            raise TreatmentError("the last-treated cohort as control needs at least two treated cohorts, got "
                                 f"{[int(c) for c in cohorts]}")
        last = int(cohorts[-1])
        cut = last - self.anticipation
        never = self.cohorts.index[self.cohorts == NEVER]
        keep = (self.frame[self.time] < cut) & ~self.frame[self.unit].isin(never)
        if (self.periods < cut).sum() < 2:
            raise TreatmentError(f"the last cohort ({last}) leaves fewer than two periods before it: there is no "
                                 "comparison group")
        out = replace(self, frame=self.frame.loc[keep].reset_index(drop=True),
                      cohorts=self.cohorts.drop(never).where(lambda c: c != last, NEVER),
                      periods=self.periods[self.periods < cut], notes=list(self.notes))
        out.change(f"the last-treated cohort ({last}) is the control group: periods from {cut} on"
                   + (f" and {len(never)} never-treated unit(s)" if len(never) else "")
                   + " leave the sample")
        return out


_ECON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _outside_econ() -> int:
    """The ``stacklevel`` of the first frame outside the econ package (for :meth:`StaggeredDesign.change`)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_ECON_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def read_cohorts(frame: pd.DataFrame, unit: str, time: str | None, cohort: str) -> np.ndarray:
    """The cohort column as float64 first treated periods, NaN = never treated; TreatmentError naming bad cells.

    The one cell rule of the package (:func:`build_design`, the simulator and the claims' column mapping use it):
    ``0``, ``NaN``, ``None``, ``pd.NA``, ``+/-inf`` and empty strings are never treated; integer-valued numbers and
    strings are periods; negative, fractional, boolean, date and unreadable cells are errors. ``time`` only labels
    cells in messages (``None`` for a one-row-per-unit table).

    Parameters
    ----------
    frame : DataFrame
        Rows holding the cohort column (a long panel or one row per unit).
    unit : str
        Unit id column (names units in messages).
    time : str or None
        Time column (names cells in messages), or None.
    cohort : str
        The cohort column.

    Returns
    -------
    numpy.ndarray
        float64 first treated periods aligned with ``frame``'s rows, NaN for never treated.

    Raises
    ------
    TreatmentError
        Boolean or date columns; negative, fractional or unreadable cells (naming up to five of them).

    Examples
    --------
    >>> import pandas as pd
    >>> from econ.did.design import read_cohorts
    >>> df = pd.DataFrame({"id": [1, 2, 3, 4], "g": ["2015", "0", None, " 2016 "]})
    >>> read_cohorts(df, "id", None, "g").tolist()
    [2015.0, nan, nan, 2016.0]
    """
    raw = frame[cohort]
    if pd.api.types.is_bool_dtype(raw):
        raise TreatmentError(f"cohort column {cohort!r} is boolean; it must hold the first treated period (e.g. "
                             "2014), 0 or missing for never treated -- a 0/1 treatment dummy goes in treat=")
    if isinstance(raw.dtype, pd.CategoricalDtype):
        raw = raw.astype(object)
    if pd.api.types.is_datetime64_any_dtype(raw) or isinstance(raw.dtype, pd.PeriodDtype):
        raise TreatmentError(f"cohort column {cohort!r} holds dates ({raw.dtype}); give the first treated period "
                             f"on the scale of the time column{f' {time!r}' if time else ''} (e.g. the year)")
    missing = np.array(raw.isna().to_numpy(), dtype=bool)
    if pd.api.types.is_numeric_dtype(raw):
        values = np.array(raw.to_numpy(dtype="float64", na_value=np.nan))
        unreadable = np.zeros(len(raw), dtype=bool)
    else:  # object / string: cells must read as numbers; empty strings are missing
        text = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
        missing |= text.map(lambda v: isinstance(v, str) and v == "").to_numpy()
        cells = text.where(~missing, None).map(
            lambda v: v if isinstance(v, (str, int, float, np.integer, np.floating)) and not isinstance(v, bool)
            else "not a number")
        values = np.array(pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64", na_value=np.nan))
        unreadable = ~missing & np.isnan(values)
        values[missing] = np.nan
    with np.errstate(invalid="ignore"):
        never = missing | np.isinf(values) | (values == 0)
        bad = unreadable | (~never & ((values < 0) | (values != np.round(values))))
    if bad.any():
        rows = np.flatnonzero(bad)
        when = (lambda r: "") if time is None else (lambda r: f" {time}={_py(frame[time].iat[r])!r}")
        cells = ", ".join(f"{unit}={_py(frame[unit].iat[r])!r}{when(r)}: {_py(raw.iat[r])!r}" for r in rows[:5])
        more = f" (+{len(rows) - 5} more)" if len(rows) > 5 else ""
        raise TreatmentError(
            f"cohort column {cohort!r} must hold integer periods (the first treated period, not negative; 0, missing "
            f"or inf = never treated); {len(rows)} cell(s) of {len(pd.unique(frame[unit].to_numpy()[rows]))} unit(s) "
            f"are not: {cells}{more}")
    values = values.copy()
    values[never] = np.nan
    return values


def unit_codes(units: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(units, sort=False)``: codes and levels in order of appearance. Numeric ids in sorted order
    (a validated panel's) are coded from their run boundaries, without hashing, to the same codes and levels."""
    u = units.to_numpy()
    if u.dtype.kind in "iuf" and len(u) and bool((u[1:] >= u[:-1]).all()):
        start = np.empty(len(u), dtype=bool)
        start[0] = True
        np.not_equal(u[1:], u[:-1], out=start[1:])
        return np.cumsum(start) - 1, pd.Index(u[start])
    return pd.factorize(units, sort=False)


def unit_cohorts(frame: pd.DataFrame, unit: str, time: str, cohort: str) -> pd.Series:
    """Per-unit first treated period (``NEVER`` = never treated) by :func:`read_cohorts`; constant within unit."""
    values = read_cohorts(frame, unit, time, cohort)
    never = np.isnan(values)
    ints = np.where(never, 0.0, values).astype("int64")
    ints[never] = NEVER
    codes, levels = unit_codes(frame[unit])  # units in order of appearance
    first = np.zeros(len(levels), dtype=np.int64)
    first[codes[::-1]] = ints[::-1]  # the first row of each unit wins
    varies = np.unique(codes[ints != first[codes]])
    if len(varies):
        hint = ""
        if np.isin(values[~never], (1.0,)).all():  # 0/1 cells: a treatment dummy given as the cohort
            hint = (" -- it looks like a 0/1 treatment dummy: give it as treat= where the estimator takes one; "
                    "if it switches on and off, use econ.did.did_multiplegt")
        raise TreatmentError(f"cohort column {cohort!r} must be constant within unit; it varies for {len(varies)} "
                             f"unit(s) {_show(levels[varies])}{hint}")
    return pd.Series(first, index=pd.Index(levels, name=unit))


def build_design(data, y, unit, time, cohort=None, *, treat=None, covariates=None, weights=None, cluster=None,
                 vcov=None, columns=(), optional=(), control: str = "never", anticipation: int = 0,
                 balance: str = "keep", always_treated: str = "drop", comparison: bool = True,
                 panel: str = "panel", dose=None) -> StaggeredDesign:
    """Validate a staggered-adoption panel once and apply the package's sample rules (see the module docstring).

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per (unit, time); never modified.
    y, unit, time : str
        Outcome (``None`` when the caller has none), unit id and integer time columns.
    cohort : str, optional
        First treated period per unit. Exactly one of ``cohort`` and ``treat``.
    treat : str, optional
        An absorbing 0/1 treatment column; its first treated period gives the cohort.
    covariates, weights, cluster : optional
        Model columns: rows with a missing value are dropped (noted and warned), except sampling weights, which
        must be present and non-negative in every row (a WeightsError naming the rows otherwise).
    vcov : optional
        A covariance spec; the columns it reads are kept (missing values left to the engine).
    columns, optional : sequence of str
        Further model columns (missing rows dropped) and pass-through columns (kept as they are).
    control : {"never", "notyet", "last"}
        Comparison group. ``"last"`` applies :meth:`StaggeredDesign.last_cohort_as_control`.
    anticipation : int
        Periods of anticipation (shifts the always-treated and late-cohort rules).
    balance : {"keep", "drop", "refuse"}
        Unbalanced panels: keep, drop the units not observed in every period, or raise PanelError naming them.
    always_treated : {"drop", "keep"}
        Units treated at or before the first period (plus anticipation): dropped (the package rule) or kept
        (only for callers that need the raw cohorts, e.g. to report them).
    comparison : bool
        Require a comparison group (a never-treated unit or two cohorts).
    dose : str, optional
        A treatment-intensity column, fixed within unit (TreatmentError naming rows or units otherwise); kept in
        ``frame`` and named by ``StaggeredDesign.dose``.
    panel : {"panel", "rcs"}
        ``"rcs"``: repeated cross-sections, ``unit`` a row id that must not repeat (PanelError naming repeated
        ids); ``balance`` does not apply.

    Returns
    -------
    StaggeredDesign

    Raises
    ------
    TreatmentError
        Bad cohort cells (naming rows), a cohort that varies within unit, a treatment that switches off, no
        treated unit, no comparison group.
    PanelError
        Duplicate keys, non-integer time, an unbalanced panel with ``balance="refuse"``, a repeated cross-section
        whose ids repeat.
    WeightsError
        Missing, negative or infinite sampling weights.
    SpecificationError
        Unknown columns or options.

    Examples
    --------
    >>> import warnings
    >>> from econ import datasets
    >>> from econ.did.design import build_design
    >>> df = datasets.load("mpdta")
    >>> d = build_design(df, "lemp", "countyreal", "year", "first.treat")
    >>> d.n_never, d.treated_cohorts.tolist()
    (309, [2004, 2006, 2007])
    """
    check_data(data)
    y = check_name(y, "y", optional=True)
    if (treat is None) == (cohort is None):
        raise SpecificationError("give exactly one of cohort= (first treated period) and treat= (absorbing 0/1 "
                                 "column)")
    cohort = check_name(cohort, "cohort", optional=True)
    treat = check_name(treat, "treat", optional=True)
    covariates = check_names(covariates, "covariates")
    weights = check_name(weights, "weights", optional=True)
    cluster = check_name(cluster, "cluster", optional=True)
    for arg, value, choices in (("control", control, CONTROLS), ("balance", balance, BALANCE),
                                ("always_treated", always_treated, ("drop", "keep")), ("panel", panel, ("panel", "rcs"))):
        if value not in choices:
            raise SpecificationError(f"{arg} must be one of {list(choices)}, got {value!r}")
    dose = check_name(dose, "dose", optional=True)
    roles = {"outcome": y, "unit": unit, "time": time, "cohort": cohort, "treat": treat, "dose": dose,
             "weights": weights}
    clash = {c: r for c in covariates for r, v in roles.items() if v is not None and c == v}
    if clash:  # a covariate that repeats a role would regress a column on itself (a number, never an error)
        raise SpecificationError("covariates " + ", ".join(f"{c!r} (the {r} column)" for c, r in clash.items())
                                 + " repeat a column that already has a role; drop them from covariates")
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise SpecificationError(f"anticipation must be a non-negative integer, got {anticipation!r}")
    check_weights(data, weights)
    model = [c for c in [y, treat, *covariates, weights, cluster, *columns] if c is not None]
    keep = [c for c in [cohort, dose, *vcov_columns(vcov, unit, time), *optional] if c is not None]
    if panel == "rcs" and isinstance(unit, str) and isinstance(time, str) and unit in data and time in data:
        _check_cross_section(data, unit, time)  # before the generic duplicate-key check: name ids and periods
    frame = prepare_panel(data, unit, time, model, optional=keep)
    if dose is not None:
        from econ.did.intensity._dose import check_dose

        check_dose(frame, unit, dose)
    if frame[time].nunique() < 2:
        raise TreatmentError(f"the panel has a single period ({time}={_py(frame[time].iat[0])!r}): a difference-in-"
                             "differences needs observations before and after treatment")
    design = StaggeredDesign(frame, unit, time, y, pd.Series(dtype="int64"), np.sort(frame[time].unique()),
                             control=control, anticipation=int(anticipation), covariates=covariates,
                             weights=weights, cluster=cluster, panel=panel, dose=dose)
    dropped = frame.attrs.get("dropped_missing", 0)
    if dropped:
        design.change(f"{dropped} row(s) with missing values dropped")
    if treat is not None:
        check_treatment(frame, unit, time, treat, intensity=False)  # absorbing 0/1, else TreatmentError
        cohorts = cohort_from_treatment(frame, unit, time, treat)
    else:
        cohorts = unit_cohorts(frame, unit, time, cohort)
        t_max = int(frame[time].max())
        late = (cohorts != NEVER) & (cohorts > t_max + design.anticipation)
        if late.any():
            cohorts = cohorts.where(~late, NEVER)
            design.change(f"{int(late.sum())} unit(s) first treated after the last period {t_max}"
                          + (f" + anticipation {design.anticipation}" if design.anticipation else "")
                          + f" count as never treated (R did's rule), e.g. {_show(late.index[late], 3)}")
    design.cohorts = cohorts
    if not (cohorts != NEVER).any():
        raise TreatmentError(f"no unit is ever treated (every {unit} has cohort 0 / missing)")
    if always_treated == "drop":
        _drop_always_treated(design)
    if panel == "panel":
        _balance(design, balance)
    if comparison:
        check_comparison(design.cohorts, unit)
    if cohort is not None:
        c = design.row_cohorts()
        design.frame[cohort] = np.where(c == NEVER, 0, c).astype("int64")
    if control == "last":
        design = design.last_cohort_as_control()
    return design


def balance_of(balance, name: str) -> str:
    """``build_design``'s ``balance=`` rule from a regression estimator's ``balance`` flag: ``False`` (default)
    keeps an unbalanced panel whole, ``True`` drops the units not observed in every period (noted and warned, as
    :func:`econ.did.att_gt`'s ``balance=True``)."""
    if not isinstance(balance, (bool, np.bool_)):
        raise SpecificationError(f"{name}: balance must be True or False, got {balance!r}")
    return "drop" if balance else "keep"


def unbalanced_note(frame: pd.DataFrame, unit: str, time: str, how: str) -> str | None:
    """The note reporting the sample an estimator used on an unbalanced panel, or None when it is balanced.

    Counted on ``frame``, the rows the estimator actually used (after every sample rule), in the words of
    :func:`econ.did.att_gt`'s ``allow_unbalanced_panel=True`` note: units, rows, units observed in fewer than all
    periods, then ``how`` (what the estimator does with them).
    """
    codes, levels = unit_codes(frame[unit])
    n_periods = frame[time].nunique()
    short = int((np.bincount(codes, minlength=len(levels)) < n_periods).sum())
    if not short:
        return None
    return (f"unbalanced panel: {len(levels)} units, {len(frame)} rows, {short} unit(s) observed in fewer than "
            f"{n_periods} periods, all kept ({how}; balance=True drops them)")


def check_weights(data: pd.DataFrame, weights: str | None) -> None:
    """WeightsError naming the rows whose sampling weight is missing, negative or not finite."""
    if weights is None or weights not in data.columns:
        return
    col = data[weights]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise WeightsError(not_numeric(weights, col))
    v = col.to_numpy(dtype="float64", na_value=np.nan)
    for bad, what in ((np.isnan(v), "missing"), (~np.isnan(v) & ((v < 0) | ~np.isfinite(v)), "negative or infinite")):
        if bad.any():
            raise WeightsError(f"weights column {weights!r} has {int(bad.sum())} {what} value(s), first rows "
                               f"{_show(data.index[bad])}: sampling weights must be non-negative numbers")


def _check_cross_section(data: pd.DataFrame, unit: str, time: str) -> None:
    """A repeated cross-section has one row per respondent: PanelError naming the ids that repeat, with their
    periods. An id twice in one period is a duplicated record; an id in several periods is a panel."""
    ids = data[unit]
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if not dup.any():
        return
    rows = pd.DataFrame({"id": ids.to_numpy()[dup], "t": data[time].to_numpy()[dup]})
    within = rows[rows.duplicated(keep=False)].drop_duplicates()
    if len(within):
        pairs = ", ".join(f"{_py(i)!r} in {time}={_py(t)!r}" for i, t in within.head(5).itertuples(index=False))
        more = f" (+{len(within) - 5} more)" if len(within) > 5 else ""
        raise PanelError(f"a repeated cross-section has one row per respondent, but {len(within)} {unit} id(s) "
                         f"repeat within a period: {pairs}{more}; remove the duplicated records or give unique row "
                         "ids (or none)")
    periods = rows.groupby("id", sort=False)["t"].agg(lambda v: sorted(_py(x) for x in v))
    shown = ", ".join(f"{_py(i)!r} ({time} {', '.join(map(str, p))})" for i, p in periods.head(5).items())
    more = f" (+{len(periods) - 5} more)" if len(periods) > 5 else ""
    raise PanelError(f"a repeated cross-section has one row per respondent, but {len(periods)} {unit} id(s) appear in "
                     f"several rows: {shown}{more}; if the same units are followed over time use the panel "
                     "estimator (allow_unbalanced_panel=True for an unbalanced panel), otherwise give unique row "
                     "ids (or none)")


def _drop_always_treated(design: StaggeredDesign) -> None:
    first = int(design.periods[0])
    c = design.cohorts
    always = c.index[((c != NEVER) & (c <= first + design.anticipation)).to_numpy()]
    if not len(always):
        return
    if len(always) == len(c):
        raise TreatmentError(f"every unit is treated by the first period {first}: nothing to compare")
    if len(always) == int((c != NEVER).sum()):
        raise TreatmentError(
            f"the treatment is not identified: none of the {len(always)} treated unit(s) is observed both before and "
            f"after its treatment (every treated unit is treated from its first observed period, e.g. "
            f"{design.unit}={_show(always, 3)})")
    design.frame = design.frame.loc[~design.frame[design.unit].isin(always)].reset_index(drop=True)
    design.cohorts = c.drop(always)
    design.periods = np.sort(design.frame[design.time].unique())
    design.change(f"{len(always)} unit(s) treated by the first period {first}"
                  + (f" (anticipation {design.anticipation})" if design.anticipation else "")
                  + f" dropped: always treated, no pre-treatment period, e.g. {_show(always, 3)}")


def _balance(design: StaggeredDesign, balance: str) -> None:
    codes, levels = unit_codes(design.frame[design.unit])
    counts = np.bincount(codes, minlength=len(levels))
    short = pd.Index(levels)[counts != len(design.periods)]
    design.balanced = not len(short)
    if not len(short) or balance == "keep":
        return
    if balance == "refuse":
        raise PanelError(f"a balanced panel is needed: {len(short)} {design.unit}(s) {_show(short)} are not observed "
                         f"in all {len(design.periods)} periods {design.periods[0]}-{design.periods[-1]} (after "
                         "dropping rows with missing values); drop them or fill the gaps")
    if len(short) == len(levels):
        raise PanelError(f"no unit is observed in all {len(design.periods)} periods: nothing left after balancing")
    design.frame = design.frame.loc[~design.frame[design.unit].isin(short)].reset_index(drop=True)
    design.cohorts = design.cohorts.drop(short)
    design.balanced = True
    design.change(f"{len(short)} unit(s) not observed in all {len(design.periods)} periods dropped to balance the "
                  f"panel, e.g. {_show(short, 3)}")
