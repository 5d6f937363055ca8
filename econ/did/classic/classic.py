"""Classic designs: the 2x2 DiD, triple differences (DDD) and propensity-score-matched DiD (PSM-DiD).

Conventions (documented choices):

* ``did_2x2`` and ``ddd`` work on any frame -- repeated cross-sections (Wooldridge's kielmc, injury) or panels --
  and need no unit/time columns. Default standard errors are heteroskedasticity-robust (HC1, ``vcov="hetero"``);
  pass ``vcov="iid"`` for textbook OLS standard errors or ``{"CL1": col}`` to cluster.
* Without covariates the regression coefficient equals the difference of cell means exactly; ``means`` holds the
  cell means so a reader can check it. With covariates the two differ (the regression adjusts for composition).
* ``psm_did`` estimates the propensity score by logit (statsmodels) on **pre-period unit means** of the covariates
  (so the score cannot be affected by treatment), matches treated to control units on the score, reports balance,
  and runs the TWFE DiD on the matched panel with the matching weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from econ._docs import doc
from econ._validate import check_bool, check_choice, check_int
from econ.did import _design
from econ.did.design import check_weights
from econ.errors import SpecificationError, TreatmentError, WeightsError
from econ.panel.feols import FeolsResult

__all__ = ["did_2x2", "ddd", "psm_did", "TwoByTwoResult", "TripleDiffResult", "PSMDiDResult"]

# the examples' data, written once
_DOCS = {
    "did_2x2_example": """\
>>> import pandas as pd
>>> from econ.did import did_2x2
>>> df = pd.DataFrame({"y": [1.0, 2.0, 1.5, 4.0, 1.1, 2.1, 1.4, 3.9],
...                    "g": [0, 0, 1, 1] * 2, "p": [0, 1, 0, 1] * 2})
>>> res = did_2x2(df, "y", "g", "p")""",
    "ddd_example": """\
>>> import numpy as np, pandas as pd
>>> from econ.did import ddd
>>> cells = pd.MultiIndex.from_product([[0, 1]] * 3, names=["g", "p", "s"]).to_frame(index=False)
>>> df = pd.concat([cells] * 2, ignore_index=True)
>>> df["y"] = df.g * df.p * df.s * 2.0 + np.r_[np.zeros(8), np.ones(8)]
>>> res = ddd(df, "y", "g", "p", "s")""",
    "psm_example": """\
>>> import numpy as np, pandas as pd
>>> from econ.did import psm_did
>>> rng = np.random.default_rng(0)
>>> n = 60
>>> x = rng.normal(size=n); d = (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(int)
>>> df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "year": np.tile(np.arange(2010, 2014), n)})
>>> df["d"], df["x"] = d[df["id"]], x[df["id"]] + rng.normal(scale=0.1, size=len(df))
>>> df["post"] = (df["year"] >= 2012).astype(int)
>>> df["y"] = df["d"] * df["post"] + rng.normal(scale=0.1, size=len(df))
>>> res = psm_did(df, "y", "id", "year", "d", "post", ["x"])""",
}


@doc(**_DOCS)
class TwoByTwoResult(FeolsResult):
    """Result of :func:`did_2x2`: the regression plus ``means`` (2x2 cell means with differences), ``counts``,
    ``did_means`` (the DiD computed from the four means) and ``term`` (the name of the interaction coefficient).

    Built by :func:`did_2x2` with the :class:`econ.panel.FeolsResult` arguments plus these keywords.

    Examples
    --------
    {did_2x2_example}
    >>> res.means.round(2)
    p                   pre  post  post - pre
    g
    control            1.05  2.05         1.0
    treated            1.45  3.95         2.5
    treated - control  0.40  1.90         1.5
    >>> res.term, round(res.did, 4)
    ('g_x_p', 1.5)
    """

    def __init__(self, *args, means: pd.DataFrame, counts: pd.DataFrame, did_means: float, term: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.means, self.counts, self.did_means, self.term = means, counts, float(did_means), term

    @property
    def did(self) -> float:
        """The regression DiD estimate (coefficient on the interaction)."""
        return float(self.coef[self.term])

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        return "\n".join([super().summary(level, digits), "", "Cell means (DiD from means in the corner):",
                          self.means.to_string(), "Observations per cell:", self.counts.to_string()])


@doc(**_DOCS)
class TripleDiffResult(FeolsResult):
    """Result of :func:`ddd`: the saturated regression plus ``means`` (8 cell means), ``did_by_subgroup`` (the DiD
    within each subgroup), ``ddd_means`` (their difference) and ``term`` (the triple interaction).

    Built by :func:`ddd` with the :class:`econ.panel.FeolsResult` arguments plus these keywords.

    Examples
    --------
    {ddd_example}
    >>> res.did_by_subgroup.tolist(), res.term, round(float(res.coef[res.term]), 4)
    ([0.0, 2.0], 'g_x_p_x_s', 2.0)
    """

    def __init__(self, *args, means: pd.DataFrame, did_by_subgroup: pd.Series, ddd_means: float, term: str,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.means, self.did_by_subgroup, self.ddd_means, self.term = means, did_by_subgroup, float(ddd_means), term

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        return "\n".join([super().summary(level, digits), "", "Cell means:", self.means.to_string(),
                          "DiD within each subgroup:", self.did_by_subgroup.to_string(),
                          f"DDD from means: {self.ddd_means:.{digits}f}"])


@doc(**_DOCS)
class PSMDiDResult(FeolsResult):
    """Result of :func:`psm_did`: the weighted TWFE DiD on the matched panel plus ``pscore`` (per unit),
    ``weights`` (also ``matching_weights``: matching weight per matched unit, the regression weights of the final
    DiD), ``matches``
    (treated unit, control unit, distance), ``balance`` (standardized mean differences and variance ratios
    before/after), ``logit`` (the statsmodels propensity model) and ``term`` (the DiD coefficient's name).

    Built by :func:`psm_did` with the :class:`econ.panel.FeolsResult` arguments plus these keywords.

    Examples
    --------
    {psm_example}
    >>> res.balance[["smd_before", "smd_after"]].round(2)
               smd_before  smd_after
    covariate
    x                0.54      -0.01
    pscore           0.55      -0.01
    """

    def __init__(self, *args, pscore: pd.Series, matching_weights: pd.Series, matches: pd.DataFrame,
                 balance: pd.DataFrame, term: str, logit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pscore, self.matches, self.balance = pscore, matches, balance
        self.weights = self.matching_weights = matching_weights
        self.term, self.logit = term, logit

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        return "\n".join([super().summary(level, digits), "", "Covariate balance (pre-period unit means):",
                          self.balance.round(digits).to_string()])


# --------------------------------------------------------------------------------------------------------------
# 2x2 and DDD


def _binary(frame: pd.DataFrame, col: str, role: str) -> None:
    """Check a 0/1 (or boolean) column and store it as int in ``frame`` (a working copy)."""
    values = _design.numeric(frame, col)
    if not _design.is_binary(values):
        bad = pd.unique(frame[col][~np.isin(values, (0.0, 1.0))])[:5]
        raise TreatmentError(f"{role} column {col!r} must be 0/1; found values {[_design._py(v) for v in bad]}")
    frame[col] = values.astype(np.int64)


def _interaction_name(frame, *cols) -> str:
    name = "_x_".join(cols)
    if name in frame.columns:
        raise SpecificationError(f"column {name!r} already exists; it is the name used for the interaction term")
    return name


def _cell_frame(data, y, cols, covariates, extra=(), keys=()):
    """The used columns without rows missing any of them; ``extra`` must be numeric, ``keys`` (cluster ids) not."""
    _design.check_data(data)
    _design.require_columns(data, [y, *cols, *covariates, *extra, *keys])
    keep = list(dict.fromkeys([y, *cols, *covariates, *extra, *keys]))
    frame = data[keep].copy()
    bad = frame.isna().any(axis=1)
    frame = frame.loc[~bad].reset_index(drop=True)
    if frame.empty:
        raise SpecificationError(f"every row has a missing value in at least one of {keep}")
    for col in [y, *covariates, *extra]:
        _design.numeric(frame, col)
        _design.require_finite(frame, col)
    notes = [f"{int(bad.sum())} row(s) with missing values dropped"] if bad.any() else []
    return frame, notes


@doc(**_DOCS)
def did_2x2(data: pd.DataFrame, y: str, group: str, post: str, *, covariates=None, vcov="hetero", weights=None):
    """The canonical two-group, two-period DiD: ``y = b0 + b1 group + b2 post + delta group*post + X'g + e``.

    Parameters
    ----------
    data : DataFrame
        Repeated cross-sections or a panel (not modified).
    y : str
        Outcome.
    group, post : str
        0/1 (or boolean) columns: treated group and post period. All four cells must have observations.
    covariates : list of str, optional
        Controls added linearly; with them ``delta`` is no longer the difference of cell means.
    vcov : vcov spec, default "hetero"
        Any :func:`econ.feols` spec: ``"hetero"`` (HC1, default), ``"iid"`` (textbook OLS standard errors) or
        clustered, ``{"CL1": "unit_id"}`` (CRV1 with fixest's small-sample factor and t(G - 1) inference; the
        cluster column need not be a model column; rows missing it are dropped with the others).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). The regression is weighted least squares and the cell
        means in ``means`` are weighted means. ``None``: equal weights.

    Returns
    -------
    TwoByTwoResult
        ``coef[term]`` is delta (``term`` = ``"{group}_x_{post}"``); ``means`` is the table of cell means with a
        difference row and column whose corner is the DiD from means (``did_means``); without covariates it equals
        delta to rounding.

    Raises
    ------
    TreatmentError
        ``group`` or ``post`` not 0/1, or an empty cell.
    SpecificationError
        ``data`` not a DataFrame, unknown columns, non-numeric or infinite values (names the rows), every row
        missing, a column already named like the interaction, arguments of the wrong type.
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows).

    Notes
    -----
    With ``G`` the group and ``P`` the period indicator, the regression is
    ``y_i = b0 + b1 G_i + b2 P_i + delta G_i P_i + X_i' g + e_i``. Without covariates it is saturated in the four
    cells, so ``delta`` equals the difference in differences of the cell means,
    ``delta = (ybar_11 - ybar_10) - (ybar_01 - ybar_00)`` (first index group, second period). Under parallel trends
    (absent treatment, both groups' mean outcomes would have changed by the same amount) and no anticipation it is
    the average effect on the treated group in the post period.

    Conventions: rows with a missing value in any used column are dropped (noted); no unit or time column is
    needed, so repeated cross-sections work. The default covariance is HC1,
    ``V = n / (n - K) (X'X)^-1 (sum_i u_i^2 x_i x_i') (X'X)^-1`` with ``K`` the number of coefficients (intercept
    included), and t tests use ``n - K`` degrees of freedom (:mod:`econ.panel.vcov`).

    References
    ----------
    Card, D. and Krueger, A. B. (1994). Minimum wages and employment: a case study of the fast-food industry in
    New Jersey and Pennsylvania. American Economic Review 84(4), 772-793.

    MacKinnon, J. G. and White, H. (1985). Some heteroskedasticity-consistent covariance matrix estimators with
    improved finite sample properties. Journal of Econometrics 29(3), 305-325.

    Examples
    --------
    {did_2x2_example}
    >>> round(res.did, 4), round(res.did_means, 4)
    (1.5, 1.5)
    """
    y, group, post = (_design.check_name(v, a) for v, a in ((y, "y"), (group, "group"), (post, "post")))
    covariates = _design.check_names(covariates, "covariates")
    weights = _design.check_name(weights, "weights", optional=True)
    check_weights(data, weights)  # missing or negative weights: WeightsError, as in every DiD estimator
    frame, notes = _cell_frame(data, y, [group, post], covariates, [weights] if weights else [],
                               _design.vcov_columns(vcov, None, None))
    for col, role in ((group, "group"), (post, "post")):
        _binary(frame, col, role)
    counts = frame.groupby([group, post]).size().unstack(post).reindex(index=[0, 1], columns=[0, 1])
    empty = [(g, p) for g in (0, 1) for p in (0, 1) if not counts.loc[g, p] > 0]
    if empty:
        raise TreatmentError(f"empty 2x2 cell(s) ({group}, {post}) = {empty}: a DiD needs all four cells")
    term = _interaction_name(frame, group, post)
    frame[term] = frame[group] * frame[post]
    means = _means_table(frame, y, group, post, weights)
    return _design.fit(frame, y, [group, post, term, *covariates], [], vcov, weights, notes=notes,
                       result=TwoByTwoResult, means=means, counts=counts.astype(int),
                       did_means=float(means.iloc[2, 2]), term=term)


def _cell_means(frame, y, keys, weights):
    if weights is None:
        return frame.groupby(keys)[y].mean()
    w = frame[weights]
    return (frame[y] * w).groupby([frame[k] for k in keys]).sum() / w.groupby([frame[k] for k in keys]).sum()


def _means_table(frame, y, group, post, weights) -> pd.DataFrame:
    m = _cell_means(frame, y, [group, post], weights).unstack(post).reindex(index=[0, 1], columns=[0, 1])
    table = pd.DataFrame(
        m.to_numpy(), index=pd.Index(["control", "treated"], name=group), columns=pd.Index(["pre", "post"], name=post)
    )
    table["post - pre"] = table["post"] - table["pre"]
    table.loc["treated - control"] = table.loc["treated"] - table.loc["control"]
    return table


@doc(**_DOCS)
def ddd(data: pd.DataFrame, y: str, group: str, post: str, subgroup: str, *, covariates=None, vcov="hetero",
        weights=None):
    """Triple differences: the DiD of ``group`` x ``post`` in ``subgroup == 1`` minus that in ``subgroup == 0``.

    The regression is fully saturated in the three 0/1 indicators (all main effects and two-way interactions),
    so the coefficient on the triple interaction ``{group}_x_{post}_x_{subgroup}`` equals the difference of the two
    subgroup DiDs computed from cell means (without covariates). All eight cells must have observations.

    Parameters
    ----------
    data : DataFrame
        Repeated cross-sections or a panel (not modified); no unit or time column is needed.
    y : str
        Outcome.
    group, post, subgroup : str
        0/1 (or boolean) columns: treated group, post period, and the subgroup the policy targets (e.g. the
        eligible demographic); the DiD in ``subgroup == 0`` is the placebo that is differenced out.
    covariates : list of str, optional
        Controls added linearly; with them the triple-interaction coefficient no longer equals ``ddd_means``.
    vcov : vcov spec, default "hetero"
        Any :func:`econ.feols` spec: ``"hetero"`` (HC1, default), ``"iid"``, or clustered (``{"CL1": col}``, any
        column of ``data``), as :func:`did_2x2`.
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). The regression is weighted least squares and the cell
        means are weighted means. ``None``: equal weights.

    Returns
    -------
    TripleDiffResult
        ``coef[term]`` is the DDD (``term`` = ``"{group}_x_{post}_x_{subgroup}"``); ``means`` (cell means indexed by
        subgroup and group, columns pre/post), ``did_by_subgroup``, ``ddd_means``.

    Raises
    ------
    TreatmentError
        An indicator that is not 0/1, or an empty cell.
    SpecificationError
        ``data`` not a DataFrame, unknown columns, non-numeric or infinite values, a column already named like one
        of the interactions, arguments of the wrong type.
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows).

    Notes
    -----
    The regression is
    ``y = b0 + b1 G + b2 P + b3 S + b4 GP + b5 GS + b6 PS + tau GPS + X'g + e``; without covariates
    ``tau = DiD(S = 1) - DiD(S = 0)`` with ``DiD(s) = (ybar_{s,1,1} - ybar_{s,1,0}) - (ybar_{s,0,1} - ybar_{s,0,0})``
    (indices subgroup, group, period). Its causal reading needs a single parallel-trends assumption: the bias of
    the two subgroup DiDs is the same, i.e. the gap in trends between treated and control groups is equal in both
    subgroups (Olden and Moen 2022); it does not need each DiD to be unbiased. Conventions as :func:`did_2x2`:
    rows with missing values dropped (noted), HC1 by default with ``n - K`` degrees of freedom for t tests.

    References
    ----------
    Gruber, J. (1994). The incidence of mandated maternity benefits. American Economic Review 84(3), 622-641.

    Olden, A. and Moen, J. (2022). The triple difference estimator. Econometrics Journal 25(3), 531-553.

    Examples
    --------
    {ddd_example}
    >>> round(res.ddd_means, 4)
    2.0
    """
    y, group, post, subgroup = (_design.check_name(v, a) for v, a in
                                ((y, "y"), (group, "group"), (post, "post"), (subgroup, "subgroup")))
    covariates = _design.check_names(covariates, "covariates")
    weights = _design.check_name(weights, "weights", optional=True)
    check_weights(data, weights)  # missing or negative weights: WeightsError, as in every DiD estimator
    frame, notes = _cell_frame(data, y, [group, post, subgroup], covariates, [weights] if weights else [],
                               _design.vcov_columns(vcov, None, None))
    for col, role in ((group, "group"), (post, "post"), (subgroup, "subgroup")):
        _binary(frame, col, role)
    sizes = frame.groupby([subgroup, group, post]).size()
    cells = [(s, g, p) for s in (0, 1) for g in (0, 1) for p in (0, 1)]
    empty = [c for c in cells if sizes.get(c, 0) == 0]
    if empty:
        raise TreatmentError(f"empty cell(s) ({subgroup}, {group}, {post}) = {empty}: DDD needs all eight cells")
    gp = _interaction_name(frame, group, post)
    gs = _interaction_name(frame, group, subgroup)
    ps = _interaction_name(frame, post, subgroup)
    gps = _interaction_name(frame, group, post, subgroup)
    frame[gp] = frame[group] * frame[post]
    frame[gs] = frame[group] * frame[subgroup]
    frame[ps] = frame[post] * frame[subgroup]
    frame[gps] = frame[gp] * frame[subgroup]
    cell = _cell_means(frame, y, [subgroup, group, post], weights)
    means = cell.unstack(post).rename(columns={0: "pre", 1: "post"})
    means["post - pre"] = means["post"] - means["pre"]
    change = means["post - pre"]
    did_s = pd.Series({s: change[(s, 1)] - change[(s, 0)] for s in (0, 1)}, name="did")
    did_s.index.name = subgroup
    return _design.fit(frame, y, [group, post, subgroup, gp, gs, ps, gps, *covariates], [], vcov, weights,
                       notes=notes, result=TripleDiffResult, means=means, did_by_subgroup=did_s,
                       ddd_means=float(did_s[1] - did_s[0]), term=gps)


# --------------------------------------------------------------------------------------------------------------
# PSM-DiD


@doc(**_DOCS)
def psm_did(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    treat: str,
    post: str,
    covariates,
    *,
    method: str = "nearest",
    k: int = 1,
    replace: bool = True,
    caliper: float | None = None,
    controls=None,
    vcov=None,
    weights: str | None = None,
):
    """Propensity-score matching on pre-period covariates, then the TWFE DiD on the matched panel.

    Four steps, each a documented choice (see Notes): a logit propensity score on pre-period unit means, matching of
    treated to control units on the score, a balance table, and the weighted TWFE DiD on the matched units.

    Parameters
    ----------
    data : DataFrame
        Long panel.
    y, unit, time : str
        Outcome, unit id and integer time columns.
    treat : str
        0/1 treated-group indicator, constant within unit.
    post : str
        0/1 post-period indicator.
    covariates : list of str
        Covariates of the propensity score (their pre-period unit means are used).
    method : {"nearest", "radius"}
        Nearest-neighbour or radius (caliper) matching.
    k : int
        Neighbours per treated unit (nearest only).
    replace : bool
        Matching with replacement (nearest only; radius always matches with replacement).
    caliper : float, optional
        Maximum ``|p_i - p_j|`` for a match.
    controls : list of str, optional
        Time-varying controls for the DiD regression.
    vcov : optional
        Any :func:`econ.feols` vcov spec; default clustered by unit.
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise), constant within unit. They weight the propensity-score logit, the
        balance table and the matched DiD (see Notes); units with weight zero are dropped with a note. ``None``:
        equal weights.

    Returns
    -------
    PSMDiDResult
        The weighted TWFE fit (``coef[term]`` is the DiD) with ``pscore``, ``weights``, ``matches``, ``balance``.

    Raises
    ------
    TreatmentError
        ``treat``/``post`` not 0/1, ``treat`` varying within unit, no treated or no control unit with pre-period
        rows, a failed logit (separation, collinear covariates), no treated unit matched.
    SpecificationError
        No covariates, unknown method, radius matching without a caliper, ``k`` < 1, a caliper that is not a
        positive number, unknown columns, infinite values.
    PanelError
        Duplicate (unit, time) keys, missing unit ids or times, non-integer time (:func:`econ.io.validate_panel`).
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows), weights varying within unit.

    Notes
    -----
    Steps:

    1. **Score.** For every unit, the covariates are averaged over its pre-period rows (``post == 0``); units with
       no pre-period row are dropped (noted). A logit of the unit-level ``treat`` on a constant and these means
       (statsmodels ``Logit``) gives the propensity score ``p``.
    2. **Match** treated to control units on ``|p_i - p_j|`` (the score itself, as Stata's ``psmatch2``; the
       ``caliper`` is on that scale):

       * ``method="nearest"``: the ``k`` nearest controls. ``replace=True``: a control can serve several treated
         units. ``replace=False``: greedy matching, treated units taken in descending order of the score (the
         hardest to match first), each taking its ``k`` nearest still-unused controls. Ties go to the control that
         comes first in unit order. With a ``caliper``, only controls within it qualify; treated units left without
         a match are dropped (noted).
       * ``method="radius"``: every control within ``caliper`` (required), with replacement.

       Weights: a matched treated unit has weight 1; a control gets ``sum over the treated units it serves of
       1 / (number of controls matched to that treated unit)`` -- the weights that make the weighted control mean
       the average of the treated units' matched-control means (ATT weights).
    3. **Balance.** For each covariate and the score: means of treated and controls, the standardized mean
       difference ``(mean_t - mean_c) / sqrt((var_t + var_c) / 2)`` and the variance ratio ``var_t / var_c``,
       before and after matching. Both SMDs use the *unmatched* sample's variances in the denominator (as
       ``pstest`` in psmatch2), so the change reflects only the change in means.
    4. **DiD**: ``y ~ treat*post | unit + time`` (i.e. the ``{treat}_x_{post}`` dummy with unit and time effects,
       plus optional time-varying ``controls``) on all rows of matched units, weighted by the matching weights,
       standard errors clustered by unit by default.

    Conventions: the DiD is ``y ~ D | unit + time`` with ``D = treat * post``; with the default clustering by unit
    its standard errors use the :func:`econ.feols` small-sample factor ``(n - 1) / (n - K) * G / (G - 1)`` (unit
    effects nested in the clusters count as one parameter) and t tests with ``G - 1`` degrees of freedom. They
    treat the matching weights as fixed, ignoring the estimation of the score and the matching (Abadie and Imbens
    2016 derive the correction for matching on an estimated score; it is not applied here).

    Sampling weights ``s_i`` (``weights=``): the logit is weighted (frequency weights: a unit of weight 2 counts as
    two), the "before" balance columns are ``s``-weighted, a matched treated unit has weight ``s_i`` and each
    control ``j`` matched to it receives ``s_i s_j / sum_{j' in M(i)} s_j'`` (the controls inherit the sampling
    weight of the treated unit they stand for, as DuGoff, Schuler and Stuart 2014 and Austin, Jembere and Chiu 2018
    recommend for the ATT, shared within a match in proportion to their own weights); with ``s = 1`` these are
    the weights above. Integer weights equal duplicated units for radius matching and one-to-one nearest matching
    with replacement (``k > 1`` picks different neighbours among duplicated controls).

    References
    ----------
    Rosenbaum, P. R. and Rubin, D. B. (1983). The central role of the propensity score in observational studies
    for causal effects. Biometrika 70(1), 41-55.

    Heckman, J. J., Ichimura, H. and Todd, P. E. (1997). Matching as an econometric evaluation estimator: evidence
    from evaluating a job training programme. Review of Economic Studies 64(4), 605-654.

    Abadie, A. and Imbens, G. W. (2016). Matching on the estimated propensity score. Econometrica 84(2), 781-807.

    DuGoff, E. H., Schuler, M. and Stuart, E. A. (2014). Generalizing observational study results: applying
    propensity score methods to complex surveys. Health Services Research 49(1), 284-303.

    Austin, P. C., Jembere, N. and Chiu, M. (2018). Propensity score matching and complex surveys. Statistical
    Methods in Medical Research 27(4), 1240-1257.

    Leuven, E. and Sianesi, B. (2003). PSMATCH2: Stata module to perform full Mahalanobis and propensity score
    matching, common support graphing, and covariate imbalance testing. Statistical Software Components S432001,
    Boston College Department of Economics.

    Examples
    --------
    {psm_example}
    >>> bool(abs(res.coef[res.term] - 1.0) < 0.2)
    True
    """
    _design.check_data(data)
    y, treat, post = (_design.check_name(v, a) for v, a in ((y, "y"), (treat, "treat"), (post, "post")))
    covariates = _design.check_names(covariates, "covariates")
    controls = _design.check_names(controls, "controls")
    if not covariates:
        raise SpecificationError("psm_did needs covariates for the propensity score")
    method = check_choice(method, "method", ("nearest", "radius"))
    if method == "radius" and caliper is None:
        raise SpecificationError("method='radius' needs a caliper")
    k = check_int(k, "k", minimum=1)
    replace = check_bool(replace, "replace")
    if caliper is not None:
        if isinstance(caliper, (bool, np.bool_)) or not isinstance(caliper, (int, float, np.integer, np.floating)) \
                or not np.isfinite(caliper) or caliper <= 0:
            raise SpecificationError(f"caliper must be a positive number (a distance on the propensity-score scale), "
                                     f"got {caliper!r}")
    wname = _design.check_name(weights, "weights", optional=True)
    check_weights(data, wname)
    frame = _design.prepare_panel(data, unit, time, [y, treat, post, *covariates, *controls, *_design.as_list(wname)],
                                  optional=_design.vcov_columns(vcov, unit, time))
    notes = _design.missing_notes(frame)
    _binary(frame, treat, "treat")
    _binary(frame, post, "post")
    _design.require_unit_constant(frame[treat], frame[unit], f"treat column {treat!r} (a group indicator)")
    if wname is not None:
        _design.require_unit_constant(frame[wname], frame[unit], f"weights column {wname!r}", error=WeightsError)
        zero = frame[wname].to_numpy(dtype=float) == 0
        if zero.any():
            notes.append(f"{frame.loc[zero, unit].nunique()} unit(s) with zero weight dropped")
            frame = frame.loc[~zero].reset_index(drop=True)

    units, group, x = _pre_period_covariates(frame, unit, treat, post, covariates, notes)
    s = None if wname is None else frame.groupby(unit, sort=True)[wname].first().reindex(units).to_numpy(float)
    pscore, logit = _propensity(group, x, covariates, units, s)
    replace = replace or method == "radius"  # radius matching is always with replacement
    matches = _match(pscore, group, method, k, replace, caliper)
    weights = _matching_weights(matches, units, None if s is None else pd.Series(s, index=units))
    n_treated = int(group.sum())
    unmatched = n_treated - matches["treated"].nunique()
    why = (f"no control within the caliper {caliper:g}" if caliper is not None
           else "no control left (matching without replacement uses each control once)")
    if unmatched == n_treated:
        raise TreatmentError(f"no treated unit could be matched: {why}"
                             + ("; widen the caliper" if caliper is not None else ""))
    if unmatched:
        notes.append(f"{unmatched} of {n_treated} treated unit(s) without a match dropped ({why})")
    balance = _balance(x, group, weights, pscore, covariates, s)

    term = _interaction_name(frame, treat, post)
    sample = frame.loc[frame[unit].isin(weights.index)].reset_index(drop=True)
    sample[term] = sample[treat] * sample[post]
    wcol = "_psm_weight"
    sample[wcol] = sample[unit].map(weights).to_numpy()
    notes.append(
        f"PSM ({method}, k={k}, replace={replace}, caliper={caliper}): "
        f"{matches['treated'].nunique()} treated and {int((weights.index.isin(units[group == 0])).sum())} control "
        f"unit(s) matched; DiD on {len(sample)} rows weighted by matching weights"
    )
    return _design.fit(sample, y, [term, *controls], [unit, time], _design.default_vcov(vcov, unit), wcol,
                       unit=unit, time=time, notes=notes, result=PSMDiDResult, pscore=pscore, matching_weights=weights,
                       matches=matches, balance=balance, term=term, logit=logit)


def _pre_period_covariates(frame, unit, treat, post, covariates, notes):
    pre = frame.loc[frame[post] == 0]
    x = pre.groupby(unit, sort=True)[covariates].mean()
    group = frame.groupby(unit, sort=True)[treat].first()
    missing = group.index.difference(x.index)
    if len(missing):
        notes.append(f"{len(missing)} unit(s) without pre-period rows dropped from matching: {list(missing[:5])}")
    group = group.loc[x.index]
    if group.nunique() < 2:
        raise TreatmentError(f"matching needs treated and control units with pre-period data; {treat!r} is constant")
    return x.index, group.to_numpy(dtype=int), x


def _propensity(group, x, covariates, units, s=None):
    import statsmodels.api as sm

    design = sm.add_constant(x.astype(float), has_constant="add")
    endog = pd.Series(group, index=x.index, name="treat")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            if s is None:
                logit = sm.Logit(endog, design).fit(disp=0, maxiter=200)
            else:  # frequency weights: a unit of weight 2 counts as two units
                logit = sm.GLM(endog, design, family=sm.families.Binomial(), freq_weights=s).fit(maxiter=200)
        except Exception as exc:  # perfect separation, singular design, non-convergence
            raise TreatmentError(
                f"the propensity-score logit of treatment on {covariates} failed ({type(exc).__name__}: {exc}); "
                "check for covariates that perfectly predict treatment or are collinear"
            ) from None
    return pd.Series(np.asarray(logit.predict(design)), index=units, name="pscore"), logit


def _match(pscore: pd.Series, group: np.ndarray, method, k, replace, caliper) -> pd.DataFrame:
    """Rows (treated, control, distance); the docstring of psm_did describes the rules (``replace`` is True for
    radius matching)."""
    p = pscore.to_numpy()
    treated = np.flatnonzero(group == 1)
    controls = np.flatnonzero(group == 0)
    if not replace:  # greedy: the highest score (hardest to match) first
        treated = treated[np.argsort(-p[treated], kind="stable")]
    available = np.ones(len(controls), dtype=bool)  # stays all True with replacement
    rows = []
    for i in treated:
        idx = np.flatnonzero(available)
        dist = np.abs(p[controls[idx]] - p[i])
        if method == "radius":
            chosen = np.flatnonzero(dist <= caliper)
        else:
            chosen = np.argsort(dist, kind="stable")[:k]
            if caliper is not None:
                chosen = chosen[dist[chosen] <= caliper]
        rows += [(i, controls[idx[c]], dist[c]) for c in chosen]
        if not replace:
            available[idx[chosen]] = False
    ids = pscore.index
    out = pd.DataFrame(rows, columns=["treated", "control", "distance"])
    out["treated"] = ids[out["treated"].to_numpy(dtype=int)] if len(out) else []
    out["control"] = ids[out["control"].to_numpy(dtype=int)] if len(out) else []
    return out


def _matching_weights(matches: pd.DataFrame, units, s: pd.Series | None = None) -> pd.Series:
    """ATT weights: treated ``s_i``, controls ``sum_i s_i s_j / sum_{j' in M(i)} s_j'`` (``s = 1`` without
    sampling weights)."""
    if matches.empty:
        return pd.Series(dtype=float, name="weight")
    s_t = 1.0 if s is None else s.reindex(matches["treated"]).to_numpy()
    s_c = 1.0 if s is None else s.reindex(matches["control"]).to_numpy()
    share = pd.Series(s_c * np.ones(len(matches)), index=matches.index)
    per_treated = share.groupby(matches["treated"]).transform("sum")
    control_w = (s_t * share / per_treated).groupby(matches["control"]).sum()
    first = pd.unique(matches["treated"])
    treated_w = pd.Series(1.0 if s is None else s.reindex(first).to_numpy(), index=first)
    w = pd.concat([treated_w, control_w])
    w = w.groupby(level=0).sum()  # a unit cannot be both, but keep it safe
    w.index.name = units.name
    return w.reindex([u for u in units if u in w.index]).rename("weight")


def _weighted_mean_var(v: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    m = np.average(v, weights=w)
    # frequency-style weighted variance with the n-1 style correction sum(w) - 1 (weights sum to matched counts)
    denom = w.sum() - 1 if w.sum() > 1 else w.sum()
    return float(m), float(np.sum(w * (v - m) ** 2) / denom)


def _balance(x: pd.DataFrame, group: np.ndarray, weights: pd.Series, pscore: pd.Series, covariates,
             s=None) -> pd.DataFrame:
    table = x.copy()
    table["pscore"] = pscore
    w_all = weights.reindex(table.index).fillna(0.0).to_numpy()
    rows = {}
    for col in [*covariates, "pscore"]:
        v = table[col].to_numpy(dtype=float)
        vt, vc = v[group == 1], v[group == 0]
        if s is None:
            mt, mc = vt.mean(), vc.mean()
            var_t, var_c = vt.var(ddof=1), vc.var(ddof=1)
        else:  # sampling-weighted population moments before matching
            (mt, var_t), (mc, var_c) = (_weighted_mean_var(v[group == g], s[group == g]) for g in (1, 0))
        sd_pooled = np.sqrt((var_t + var_c) / 2)
        wt, wc = w_all[group == 1], w_all[group == 0]
        mt_a, var_t_a = _weighted_mean_var(vt[wt > 0], wt[wt > 0])
        mc_a, var_c_a = _weighted_mean_var(vc[wc > 0], wc[wc > 0])
        rows[col] = {
            "mean_treated_before": mt,
            "mean_control_before": mc,
            "smd_before": (mt - mc) / sd_pooled if sd_pooled > 0 else np.nan,
            "var_ratio_before": var_t / var_c if var_c > 0 else np.nan,
            "mean_treated_after": mt_a,
            "mean_control_after": mc_a,
            "smd_after": (mt_a - mc_a) / sd_pooled if sd_pooled > 0 else np.nan,
            "var_ratio_after": var_t_a / var_c_a if var_c_a > 0 else np.nan,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "covariate"
    return out
