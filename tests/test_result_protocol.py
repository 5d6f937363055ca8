"""One result protocol (econ.results.ResultProtocol) for every public result class in every subpackage.

The classes are *discovered* (every module's ``__all__``: classes named ``*Result``/``*Results``/``*Test``/``*Tests``
or subclasses of :class:`econ.results.Result`), so a new result class without a builder here fails the test. Each
is built on small bundled data and checked: ``tidy()`` has the standard columns, ``summary()`` is text,
``plot(ax=...)`` draws on the given axes and ``path=`` writes the file, ``nobs`` counts rows used and ``n_units``
the units.
"""

import importlib
import inspect
import pkgutil
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import econ  # noqa: E402
from econ import datasets, did  # noqa: E402
from econ.results import Result, ResultProtocol  # noqa: E402

COLUMNS = ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]
# Public classes whose names look like results but are not estimation results (with the reason).
NOT_RESULTS = {
    "VcovResult": "a covariance matrix passed between engine modules (econ.panel.vcov), never returned to users",
    "CheckResult": "one claim check's verdict (econ.claims.verdict), tabulated by the claims report",
    "KeyedResults": "the dict holding sub-results by key (each value is checked as its own class)",
}
Y, UNIT, TIME = "log_income_ratio", "prefecture_code", "year"


def public_result_classes() -> dict:
    out = {}
    for info in pkgutil.walk_packages(econ.__path__, "econ."):
        if info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if not inspect.isclass(obj) or obj.__name__ in NOT_RESULTS:
                continue
            if issubclass(obj, Result) or obj.__name__.endswith(("Result", "Results", "Test", "Tests")):
                out[obj.__name__] = obj
    return out


# ------------------------------------------------------------------------------------------------ small data
@pytest.fixture(scope="module")
def demo():
    data = datasets.load("china_cities_demo")
    keep = sorted(data[UNIT].unique())[:120]
    return data[data[UNIT].isin(keep)].reset_index(drop=True)


@pytest.fixture(scope="module")
def mpdta():
    return datasets.load("mpdta")


@pytest.fixture(scope="module")
def built(demo, mpdta):
    """name -> (instance, expected nobs, expected n_units); ``None`` where the count has no meaning."""
    from econ import montecarlo as mc
    from econ import spatial as sp
    from econ.index import entropy_index
    from econ.panel import delegate, mediation, threshold
    from econ.panel.feols import feols
    from econ.panel.wildboot import wildboot

    W_full = datasets.load_weights()
    full = datasets.load("china_cities_demo")
    n_demo, u_demo = len(demo), demo[UNIT].nunique()
    n_mp, u_mp = len(mpdta), mpdta["countyreal"].nunique()
    mp = ("lemp", "countyreal", "year", "first.treat")
    out = {}
    es = did.event_study(demo, Y, UNIT, TIME, "cohort")
    out["EventStudyResult"] = (es, n_demo, u_demo)
    out["FeolsResult"] = (feols(f"{Y} ~ treated | {UNIT} + {TIME}", demo, vcov={"CL1": UNIT}), n_demo, u_demo)
    out["Result"] = (did.twfe(demo, Y, UNIT, TIME, "treated"), n_demo, u_demo)
    out["PlaceboResult"] = (did.placebo(demo, Y, UNIT, TIME, treat="treated", n_draws=19), n_demo, u_demo)
    two = demo[demo[TIME].isin([2013, 2016])].assign(post=lambda d: (d[TIME] == 2016).astype(int),
                                                    group=lambda d: (d["cohort"] == 2014).astype(int))
    out["TwoByTwoResult"] = (did.did_2x2(two, Y, "group", "post"), len(two), None)
    three = two.assign(sub=lambda d: pd.factorize(d[UNIT])[0] % 2)
    out["TripleDiffResult"] = (did.ddd(three, Y, "group", "post", "sub"), len(three), None)
    psm = demo.assign(post=(demo[TIME] >= 2014).astype(int), group=(demo["cohort"] == 2014).astype(int))
    psm = psm[(psm["cohort"] == 2014) | (psm["cohort"] == 0)]
    out["PSMDiDResult"] = (did.psm_did(psm, Y, UNIT, TIME, "group", "post", ["log_gdp_pc"]), None, None)
    sub = demo.assign(region=np.where(pd.factorize(demo[UNIT])[0] % 2 == 0, "even", "odd"))
    out["SubgroupResult"] = (did.subgroups(sub, Y, UNIT, TIME, "treated", by="region"), n_demo, u_demo)
    out["ChannelsResult"] = (did.channels(demo, Y, UNIT, TIME, "treated", mediators=["new_firms_per_10k"]),
                             n_demo, u_demo)
    cs = did.att_gt(mpdta, *mp, n_draws=0)
    out["ATTgtResult"] = (cs, n_mp, u_mp)
    out["AggregateResult"] = (cs.aggregate("simple"), n_mp, u_mp)
    hh = mpdta.assign(rural=(mpdta["countyreal"] % 2).astype(int))
    out["DDDgtResult"] = (did.ddd_gt(hh, *mp, "rural"), n_mp, u_mp)
    out["BaconResult"] = (did.bacon(mpdta, *mp), n_mp, u_mp)
    out["SunAbrahamResult"] = (did.sun_abraham(mpdta, *mp), n_mp, u_mp)
    imp = did.imputation(mpdta, *mp)
    out["ImputationResult"] = (imp, n_mp, u_mp)
    out["EventPathResult"] = (out["SunAbrahamResult"][0], n_mp, u_mp)  # the shared base of SA and imputation
    out["ComparisonResult"] = (did.compare(mpdta, *mp, estimators=("twfe", "cs"), window=(-3, 3)), n_mp, u_mp)
    out["HonestResult"] = (did.honest(did.event_study(mpdta, *mp), Mbar=[0, 1], grid_points=50), n_mp, u_mp)
    prop99 = datasets.load("california_prop99")
    n_p99, u_p99 = len(prop99), prop99["state"].nunique()
    out["SDIDResult"] = (did.sdid(prop99, "packs_per_capita", "state", "year", "treated", vcov="none"), n_p99, u_p99)
    out["SynthResult"] = (did.synth(prop99, "packs_per_capita", "state", "year", "treated", placebo=False),
                          n_p99, u_p99)
    out["SpatialDiDResult"] = (did.spatial_did(full, Y, UNIT, TIME, cohort="cohort", W=W_full), len(full),
                               full[UNIT].nunique())
    rng_r = np.random.default_rng(0)
    ring = pd.DataFrame({"u": np.repeat(np.arange(80), 3), "t": np.tile([1, 2, 3], 80),
                         "g": np.repeat(rng_r.choice([0, 2], 80, p=[0.8, 0.2]), 3),
                         "lat": np.repeat(rng_r.uniform(30, 31, 80), 3),
                         "lon": np.repeat(rng_r.uniform(110, 111, 80), 3)})
    ring["y"] = rng_r.normal(size=len(ring))
    out["SpatialDiDRadiusResult"] = (did.spatial_did_radius(ring, "y", "u", "t", cohort="g", coords=("lat", "lon"),
                                                            radii=[10, 20]), len(ring), 80)
    runs = mc.run(mc.grid(mc.staggered, n_units=[20], n_years=8), {"twfe": mc.estimators.twfe()}, 3, seed=1,
                  n_workers=1, progress=False)
    out["MonteCarloResult"] = (runs, None, None)
    out["PowerResult"] = (mc.power(mc.staggered, mc.estimators.twfe(), [0.0, 0.1], n_reps=3, n_units=20,
                                   n_years=8, progress=False), None, None)
    fit = feols(f"{Y} ~ treated | {UNIT} + {TIME}", demo, vcov={"CL1": UNIT})
    out["WildBootResult"] = (wildboot(fit, "treated", n_draws=99), n_demo, u_demo)
    out["WaldTest"] = (fit.wald_test("treated = 0"), n_demo, u_demo)
    rng = np.random.default_rng(0)
    small = pd.DataFrame({"unit": np.repeat(np.arange(30), 4), "year": np.tile(np.arange(4), 30)})
    small["x"] = rng.normal(size=len(small)) + np.repeat(rng.normal(size=30), 4)
    small["y"] = 1 + 0.5 * small["x"] + np.repeat(rng.normal(size=30), 4) + rng.normal(size=len(small))
    out["HausmanTest"] = (delegate.hausman("y ~ 1 + x", small, "unit", "year"), 120, 30)
    out["ThresholdResult"] = (threshold(small, "y", "unit", "year", rx="x", qx="x", grid=10, n_draws=0), 120, 30)
    out["MediationResult"] = (mediation(demo, Y, "treated", "new_firms_per_10k", fe=[UNIT, TIME],
                                        vcov={"CL1": UNIT}, n_draws=19), n_demo, u_demo)
    out["IndexResult"] = (entropy_index(demo, ["log_gdp_pc", "urbanization_rate", "public_service_index"],
                                        unit=UNIT, time=TIME), n_demo, u_demo)
    one = full[full[TIME] == 2015].reset_index(drop=True)
    n_w = len(one)
    y = one[Y].to_numpy()
    out["MoranResult"] = (sp.moran(y, W_full, n_draws=19), n_w, n_w)
    out["GearyResult"] = (sp.geary(y, W_full, n_draws=19), n_w, n_w)
    out["JoinCountResult"] = (sp.join_counts((y > np.median(y)).astype(int), W_full, n_draws=19), n_w, n_w)
    out["LocalMoranResult"] = (sp.local_moran(y, W_full, n_draws=19), n_w, n_w)
    two_years = full[full[TIME].isin([2014, 2015])]
    out["PeriodResults"] = (sp.by_period(two_years, Y, UNIT, TIME, W_full, n_draws=0), len(two_years), n_w)
    with warnings.catch_warnings():  # the bundled contiguity has island prefectures (Hainan): a known warning
        warnings.simplefilter("ignore", sp.SpatialWarning)
        sar = sp.fit(f"{Y} ~ log_gdp_pc", one, W_full, model="sar", unit=UNIT)
    out["SpatialResult"] = (sar, n_w, n_w)
    out["ImpactsResult"] = (sar.impacts(n_draws=0), n_w, n_w)
    out["SpecTests"] = (sp.lm_tests(f"{Y} ~ log_gdp_pc", one, W_full, unit=UNIT), n_w, n_w)
    from econ.simulate import draw_dose_panel
    dose = draw_dose_panel(n_units=80, n_periods=4, seed=0).data
    out["ContDiDResult"] = (did.cont_did(dose, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=49),
                            len(dose), 80)
    from econ.did.intensity.multiplegt import _demo_panel
    sw = _demo_panel(n=60)
    out["MultiplegtResult"] = (did.did_multiplegt(sw, "y", "unit", "time", "d", effects=2, placebo=1), len(sw), 60)
    return out


# ------------------------------------------------------------------------------------------------ the checks
def test_every_public_result_class_has_a_builder(built):
    missing = sorted(set(public_result_classes()) - set(built))
    assert not missing, f"result classes without a builder in this test (add one): {missing}"


@pytest.mark.parametrize("name", sorted(public_result_classes()))
def test_protocol(name, built, tmp_path):
    cls = public_result_classes()[name]
    res, nobs, n_units = built[name]
    assert isinstance(res, cls)
    lacking = [m for m in ("tidy", "summary", "plot", "nobs", "n_units") if not hasattr(res, m)]
    assert not lacking and isinstance(res, ResultProtocol), f"{name} lacks {lacking}"
    tid = res.tidy()
    assert isinstance(tid, pd.DataFrame) and len(tid) > 0
    assert set(COLUMNS) <= set(tid.columns), f"{name}.tidy() columns: {list(tid.columns)}"
    assert pd.api.types.is_numeric_dtype(tid["estimate"])
    assert isinstance(res.summary(), str) and res.summary()
    # nobs = rows used, n_units = units (None only where a count has no meaning: Monte Carlo summaries, 2x2 cells)
    if nobs is not None:
        assert res.nobs == nobs, f"{name}.nobs = {res.nobs}, expected {nobs} rows"
    else:
        assert res.nobs is None or res.nobs > 0
    if n_units is not None:
        assert res.n_units == n_units, f"{name}.n_units = {res.n_units}, expected {n_units}"
    # plot(ax=...) draws on that axes; path= writes a file
    fig, ax = plt.subplots()
    try:
        before = len(ax.get_children())
        got = res.plot(ax=ax)
        assert got == (fig, ax), f"{name}.plot(ax=ax) did not return (ax.figure, ax)"
        assert len(ax.get_children()) > before, f"{name}.plot(ax=ax) drew nothing on ax"
        out = tmp_path / f"{name}.png"
        fig2, ax2 = res.plot(path=out)
        assert out.exists() and out.stat().st_size > 0
        plt.close(fig2)
        # positional: plot(ax) means the same everywhere
        fig3, ax3 = plt.subplots()
        assert res.plot(ax3) == (fig3, ax3)
        plt.close(fig3)
    finally:
        plt.close("all")
