"""Conformance matrix of the staggered design (econ.did.design): every staggered estimator x every coding of the
same panel gives the canonical numbers, or the same clear error across estimators.

Rows: twfe, event_study, placebo (actual estimate), att_gt, sun_abraham, imputation, bacon, compare, spatial_did
(demo panel only: mpdta has no spatial weights) and the econ.montecarlo wrappers (att_gt, imputation).
Columns: never-treated coded 0 (canonical), NaN, pd.NA, inf, a cohort after the last period; integer, string,
zero-padded string and categorical ids; no never-treated group; an unbalanced panel (att_gt, bacon and compare
refuse it; twfe, event_study, placebo, sun_abraham and imputation keep it whole and sun_abraham / imputation report
the sample in a note as att_gt(allow_unbalanced_panel=True) does; balance=True is the fit on the complete units
for att_gt, sun_abraham and imputation). Canonical fits are cached per module, so the whole matrix runs in seconds.
A second matrix gives every estimator that reads a treatment column (twfe, placebo, spatial_did, subgroups, the
twfe Monte Carlo wrapper, build_design itself, sdid, synth) a treatment that switches off, an intensity that changes
after it starts and a staggered intensity, and every cohort-taking estimator a switching dummy as its cohort: one
TreatmentError naming the units and pointing to did_multiplegt / cont_did.
A weights row: every DiD estimator that reads a panel takes ``weights=`` (one name, sampling weights); on the
same panel a missing weight is the same WeightsError everywhere, and the estimators without a weighted version
(bacon, sdid, synth) refuse it with one SpecificationError saying why.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

import econ.montecarlo as mc
from econ import datasets
from econ.did import att_gt, bacon, compare, event_study, imputation, placebo, spatial_did, sun_abraham, twfe
from econ.errors import EconWarning, PanelError, TreatmentError

PANELS = {"mpdta": ("lemp", "countyreal", "year", "g"), "demo": ("log_income_ratio", "prefecture_code", "year",
                                                                  "cohort")}


@lru_cache(maxsize=None)
def panel(name: str) -> pd.DataFrame:
    if name == "mpdta":
        return datasets.load("mpdta").rename(columns={"first.treat": "g"})[["countyreal", "year", "lemp", "g"]]
    demo = datasets.load("china_cities_demo")
    return demo[["prefecture_code", "year", "log_income_ratio", "cohort"]]


@lru_cache(maxsize=None)
def weights():
    return datasets.load_weights()


def _numbers(res, kind: str) -> np.ndarray:
    """The numbers of a result that must not depend on how the panel is coded."""
    if kind == "att_gt":
        t = res.tidy().sort_values(["cohort", "time"])
        agg = res.aggregate("simple")
        return np.concatenate([t["estimate"], t["std_error"].fillna(0), [agg.overall_att, agg.overall_se]])
    if kind == "placebo":
        return np.array([res.estimate])
    if kind == "bacon":
        c = res.comparisons.assign(key=lambda d: d["treated"].astype(str) + "|" + d["control"].astype(str))
        c = c.sort_values(["type", "key"])
        return np.concatenate([[res.twfe], c["estimate"], c["weight"]])
    if kind == "compare":
        o = res.overall()
        return np.concatenate([o["estimate"], o["std_error"]])
    if kind == "mc":
        return np.array([res["estimate"], res["se"]])
    out = [res.coef.to_numpy(), res.se.to_numpy()]
    if hasattr(res, "overall_att"):
        out.append([res.overall_att, res.overall_se])
    return np.concatenate(out)


def _run(kind: str, data: pd.DataFrame, name: str, **kw):
    y, unit, time, cohort = PANELS[name]
    calls = {
        "twfe": lambda: twfe(data, y, unit, time, cohort),
        "event_study": lambda: event_study(data, y, unit, time, cohort, window=(-3, 3)),
        "placebo": lambda: placebo(data, y, unit, time, cohort=cohort, n_draws=2, progress=False),
        "att_gt": lambda: att_gt(data, y, unit, time, cohort, **kw),
        "sun_abraham": lambda: sun_abraham(data, y, unit, time, cohort, **kw),
        "imputation": lambda: imputation(data, y, unit, time, cohort, **kw),
        "bacon": lambda: bacon(data, y, unit, time, cohort),
        "compare": lambda: compare(data, y, unit, time, cohort, estimators=("twfe", "cs", "sa", "imputation"),
                                   window=(-3, 3)),
        "spatial_did": lambda: spatial_did(data, y, unit, time, cohort=cohort, W=weights()),
        "mc_att_gt": lambda: mc.estimators.att_gt(y, unit, time, cohort).fn(data, 0.95),
        "mc_imputation": lambda: mc.estimators.imputation(y, unit, time, cohort).fn(data, 0.95),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EconWarning)
        res = calls[kind]()
    return _numbers(res, "mc" if kind.startswith("mc_") else kind)


ESTIMATORS = ["twfe", "event_study", "placebo", "att_gt", "sun_abraham", "imputation", "bacon", "compare",
              "spatial_did", "mc_att_gt", "mc_imputation"]
CELLS = [(k, p) for p in PANELS for k in ESTIMATORS if not (k == "spatial_did" and p == "mpdta")]


@lru_cache(maxsize=None)
def canonical(kind: str, name: str) -> np.ndarray:
    return _run(kind, panel(name), name)


def _never(name: str, code) -> pd.DataFrame:
    df = panel(name).copy()
    c = PANELS[name][3]
    if code is pd.NA:
        df[c] = pd.array(df[c].where(df[c] != 0), dtype="Int64")
    else:
        df[c] = df[c].astype(float).where(df[c] != 0, code)
    return df


def _ids(name: str, how: str) -> pd.DataFrame:
    df = panel(name).copy()
    u = PANELS[name][1]
    if how == "str":
        df[u] = df[u].astype(str)
    elif how == "padded":
        df[u] = df[u].map(lambda v: f"{int(v):08d}")
    elif how == "categorical":
        df[u] = pd.Categorical(df[u].astype(str))
    return df


VARIANTS = {
    "nan": lambda n: _never(n, np.nan),
    "pd.NA": lambda n: _never(n, pd.NA),
    "inf": lambda n: _never(n, np.inf),
    "after_last_period": lambda n: _never(n, float(panel(n)[PANELS[n][2]].max() + 3)),
    "str_ids": lambda n: _ids(n, "str"),
    "padded_ids": lambda n: _ids(n, "padded"),
    "categorical_ids": lambda n: _ids(n, "categorical"),
}
ID_VARIANTS = {"str_ids", "padded_ids", "categorical_ids"}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind, name", CELLS)
def test_every_coding_gives_the_canonical_numbers(kind, name, variant):
    if kind == "spatial_did" and variant in ID_VARIANTS:
        pytest.skip("W carries the integer prefecture codes; relabelling W is a Weights question, not a design one")
    got = _run(kind, VARIANTS[variant](name), name)
    np.testing.assert_allclose(got, canonical(kind, name), rtol=1e-9, atol=1e-12)


def test_recodings_warn_once_and_leave_a_note():
    df = VARIANTS["after_last_period"]("mpdta")
    with pytest.warns(EconWarning, match=r"309 unit\(s\) first treated after the last period 2007 count as never"):
        res = imputation(df, *PANELS["mpdta"])
    assert sum("count as never treated" in n for n in res.notes) == 1
    # the symptom: NaN never-treated units are never dropped as rows with missing values
    nan = imputation(VARIANTS["nan"]("mpdta"), *PANELS["mpdta"])
    assert nan.overall_att == pytest.approx(-0.04771, abs=5e-6)


STAGGERED = ["twfe", "event_study", "placebo", "att_gt", "sun_abraham", "imputation", "bacon", "compare",
             "mc_att_gt", "mc_imputation"]


@pytest.mark.parametrize("kind", STAGGERED)
def test_a_negative_cohort_code_is_the_same_error_everywhere(kind):
    df = panel("mpdta").assign(g=lambda d: d["g"].replace(0, -1))
    with pytest.raises(TreatmentError, match=r"cohort column 'g' must hold integer periods.*"
                                             r"1545 cell\(s\) of 309 unit\(s\).*countyreal=13011 year=2003: -1"):
        _run(kind, df, "mpdta")


@pytest.mark.parametrize("bad", ["2007a", 2006.5])
def test_fractional_or_unreadable_cohorts_are_named(bad):
    df = panel("demo").astype({"cohort": object})
    df.loc[df["prefecture_code"] == df["prefecture_code"].iloc[0], "cohort"] = bad
    for kind in ("att_gt", "imputation", "twfe"):
        with pytest.raises(TreatmentError, match=rf"1 unit\(s\).*{df['prefecture_code'].iloc[0]}"):
            _run(kind, df, "demo")


def _last_as_control(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """No never-treated units, and the same sample coded by hand: last cohort = 0, its adoption period on dropped."""
    y, unit, time, c = PANELS[name]
    df = panel(name)
    treated = df[df[c] != 0].reset_index(drop=True)
    last = treated[c].max()
    by_hand = treated[treated[time] < last].assign(**{c: lambda d: d[c].where(d[c] != last, 0)})
    return treated, by_hand


@pytest.mark.parametrize("name", list(PANELS))
def test_no_never_treated_group_uses_the_last_cohort_everywhere(name):
    treated, by_hand = _last_as_control(name)
    for kind, fn, kw in (("att_gt", att_gt, {}), ("sun_abraham", sun_abraham, {"control": "last"})):
        with pytest.warns(EconWarning, match=r"last-treated cohort \(\d+\) is the control group"):
            got = _numbers(fn(treated, *PANELS[name], **kw), kind)
        np.testing.assert_allclose(got, _run(kind, by_hand, name), rtol=1e-9, atol=1e-12)
    with pytest.raises(TreatmentError, match="no never-treated"):
        _run("sun_abraham", treated, name)
    # the estimators that compare with not-yet-treated units run and say there is no never-treated group
    for kind in ("twfe", "event_study", "imputation", "bacon", "compare"):
        assert np.isfinite(_run(kind, treated, name)).all(), kind


@pytest.mark.parametrize("name", list(PANELS))
def test_unbalanced_panel_same_error_or_same_numbers_under_any_coding(name):
    y, unit, time, c = PANELS[name]
    df = panel(name)
    rng = np.random.default_rng(0)
    holes = df.drop(index=rng.choice(len(df), size=len(df) // 50, replace=False)).reset_index(drop=True)
    recoded = holes.assign(**{c: holes[c].astype(float).where(holes[c] != 0), unit: holes[unit].astype(str)})
    for kind in ("att_gt", "bacon", "compare"):
        with pytest.raises(PanelError, match="balanced panel is needed"):
            _run(kind, holes, name)
    for kind in ("twfe", "event_study", "placebo", "sun_abraham", "imputation", "mc_imputation"):
        np.testing.assert_allclose(_run(kind, recoded, name), _run(kind, holes, name), rtol=1e-9, atol=1e-12)
    complete = holes.groupby(unit)[time].transform("size") == holes[time].nunique()
    # balance=True means the same everywhere: the fit on the units observed in every period
    for kind in ("att_gt", "sun_abraham", "imputation"):
        np.testing.assert_allclose(_run(kind, holes, name, balance=True),
                                   _run(kind, holes[complete].reset_index(drop=True), name), rtol=1e-12)
    # the regression estimators that keep the panel whole report the sample as att_gt(allow_unbalanced_panel=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EconWarning)
        kept = [att_gt(holes, y, unit, time, c, allow_unbalanced_panel=True), sun_abraham(holes, y, unit, time, c),
                imputation(holes, y, unit, time, c)]
    for res in kept:
        note = next(n for n in res.notes if n.startswith("unbalanced panel: "))
        assert note.startswith(f"unbalanced panel: {res.n_units} units, {res.nobs} rows, "), note


# ------------------------------------------------------------------------------------------ vocabulary (item 6)
def test_att_gt_takes_vcov_like_every_estimator_and_keeps_cluster_as_alias():
    from econ.errors import SpecificationError

    df = panel("mpdta").assign(state=lambda d: d["countyreal"] // 1000)
    by_vcov = att_gt(df, *PANELS["mpdta"], vcov={"CL1": "state"})
    by_alias = att_gt(df, *PANELS["mpdta"], cluster="state")
    by_unit = att_gt(df, *PANELS["mpdta"], vcov={"CL1": "countyreal"})
    np.testing.assert_array_equal(_numbers(by_vcov, "att_gt"), _numbers(by_alias, "att_gt"))
    np.testing.assert_array_equal(_numbers(by_unit, "att_gt"), canonical("att_gt", "mpdta"))
    assert not np.allclose(_numbers(by_vcov, "att_gt"), canonical("att_gt", "mpdta"))
    with pytest.raises(SpecificationError, match="vcov must be None"):
        att_gt(df, *PANELS["mpdta"], vcov="hetero")
    with pytest.raises(SpecificationError, match="disagree"):
        att_gt(df, *PANELS["mpdta"], vcov={"CL1": "state"}, cluster="countyreal")


def test_twfe_takes_the_cohort_fifth_and_a_dummy_as_treat():
    df = datasets.load("china_cities_demo")
    y, unit, time, cohort = PANELS["demo"]
    by_cohort = twfe(df, y, unit, time, cohort)
    by_treat = twfe(df, y, unit, time, treat="treated")
    assert by_cohort.coef["treated"] == pytest.approx(by_treat.coef["treated"], rel=1e-12)
    with pytest.warns(FutureWarning, match="read as treat='treated'"):
        old = twfe(df, y, unit, time, "treated")  # the earlier positional dummy still works, with a warning
    assert old.coef["treated"] == pytest.approx(by_treat.coef["treated"], rel=1e-12)
    with pytest.raises(TreatmentError, match="fifth argument is the cohort"):
        twfe(df.assign(x=df[cohort] + 0.5), y, unit, time, "x")  # constant within unit, not a period


def test_sample_changes_are_econ_warnings():
    import econ

    assert issubclass(econ.EconWarning, UserWarning) and econ.EconWarning is EconWarning
    df = panel("demo").copy()
    df.loc[[0, 1, 2], PANELS["demo"][0]] = np.nan
    with pytest.warns(EconWarning, match=r"3 row\(s\) with missing values dropped"):
        res = sun_abraham(df, *PANELS["demo"])
    assert "3 row(s) with missing values dropped" in res.notes


# ------------------------------------------------------------------------- switching treatments (issue #19, item 4)
@lru_cache(maxsize=None)
def _dummy_panel() -> pd.DataFrame:
    df = datasets.load("china_cities_demo")
    return df[["prefecture_code", "year", "log_income_ratio", "cohort", "treated", "region"]].copy()


def _switching(kind: str) -> tuple[pd.DataFrame, object]:
    """The demo panel with its 0/1 ``treated`` recoded: switched off again two years after adoption for the first
    three treated units ("off"), an intensity 2.5 instead of 1 for them ("intensity", a staggered dose), or 1 then
    2.5 ("level", an intensity that changes after it starts). Returns the panel and the first recoded unit."""
    df = _dummy_panel().astype({"treated": float})
    treated = df.loc[df["treated"] == 1, "prefecture_code"].unique()[:3]
    rows = df["prefecture_code"].isin(treated) & (df["treated"] == 1)
    late = rows & (df["year"] >= df["cohort"] + 2)
    if kind == "off":
        df.loc[late, "treated"] = 0
    elif kind == "intensity":
        df.loc[rows, "treated"] = 2.5
    else:
        df.loc[late, "treated"] = 2.5
    return df, treated[0]


def _treat_call(kind: str, df: pd.DataFrame):
    y, unit, time = "log_income_ratio", "prefecture_code", "year"
    calls = {
        "twfe": lambda: twfe(df, y, unit, time, treat="treated"),
        "placebo": lambda: placebo(df, y, unit, time, treat="treated", n_draws=2, progress=False),
        "spatial_did": lambda: spatial_did(df, y, unit, time, treat="treated", W=weights()),
        "subgroups": lambda: __import__("econ").did.subgroups(df, y, unit, time, "treated", by="region"),
        "mc_twfe": lambda: mc.estimators.twfe(y, unit, time, "treated").fn(df, 0.95),
        "build_design": lambda: __import__("econ").did.design.build_design(df, y, unit, time, treat="treated"),
        "sdid": lambda: __import__("econ").did.sdid(df, y, unit, time, "treated"),
        "synth": lambda: __import__("econ").did.synth(df, y, unit, time, "treated"),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EconWarning)
        return calls[kind]()


TREAT_TAKERS = ["twfe", "placebo", "spatial_did", "subgroups", "mc_twfe", "build_design", "sdid", "synth"]
DUMMY_ONLY = ["placebo", "spatial_did", "build_design", "sdid", "synth"]  # twfe (and subgroups, mc_twfe through it) take a dose


@pytest.mark.parametrize("kind", TREAT_TAKERS)
def test_a_treatment_that_switches_off_is_refused_everywhere(kind):
    df, first = _switching("off")
    with pytest.raises(TreatmentError, match=rf"not absorbing: it switches off \(from 1 back to 0\) for 3 unit\(s\) "
                                             rf"\['{first}',.*did_multiplegt"):
        _treat_call(kind, df)


@pytest.mark.parametrize("kind", TREAT_TAKERS)
def test_an_intensity_that_changes_after_it_starts_is_refused_everywhere(kind):
    df, first = _switching("level")
    msg = "not a 0/1 dummy" if kind in DUMMY_ONLY else "intensity 'treated' is not absorbing"
    with pytest.raises(TreatmentError, match=rf"{msg}.*3 unit\(s\) \['{first}',.*did_multiplegt.*cont_did"):
        _treat_call(kind, df)


@pytest.mark.parametrize("kind", TREAT_TAKERS)
def test_a_staggered_intensity_is_a_dose_for_twfe_and_refused_by_dummy_estimators(kind):
    df, first = _switching("intensity")
    if kind in DUMMY_ONLY:
        with pytest.raises(TreatmentError, match=rf"not a 0/1 dummy: 3 unit\(s\) \['{first}',.*cont_did"):
            _treat_call(kind, df)
    else:
        _treat_call(kind, df)


@pytest.mark.parametrize("kind", STAGGERED)
def test_a_switching_dummy_given_as_cohort_points_to_did_multiplegt(kind):
    df, first = _switching("off")
    df = df.drop(columns="cohort").rename(columns={"treated": "cohort"})
    # twfe reads a column that varies within unit as its (older, positional) treatment dummy: the dummy's error
    match = "not absorbing" if kind == "twfe" else "must be constant within unit.*0/1 treatment dummy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(TreatmentError, match=rf"{match}.*did_multiplegt"):
            _run(kind, df[["prefecture_code", "year", "log_income_ratio", "cohort"]], "demo")


# ------------------------------------------------------------------------------------------------ weights row
NO_PANEL = {"plot_rollout", "sdid_compare"}  # a figure of the rollout; sdid_compare passes its keywords to sdid
REFUSE_WEIGHTS = {"bacon", "sdid", "synth"}


def test_every_did_estimator_takes_weights_by_one_name():
    import inspect

    import econ.did as did

    missing = []
    for name in did.__all__:
        f = getattr(did, name)
        if not inspect.isfunction(f) or name in NO_PANEL:
            continue
        params = inspect.signature(f).parameters
        if next(iter(params)) != "data":
            continue
        if "weights" not in params or any("weight" in p and p != "weights" for p in params
                                          if p not in ("cohort_weights",)):
            missing.append(name)
    assert not missing, f"estimators without weights= (or with a second weights name): {missing}"


@pytest.mark.parametrize("kind", ["twfe", "event_study", "placebo", "att_gt", "sun_abraham", "imputation",
                                  "compare"])
def test_a_missing_weight_is_the_same_error_everywhere(kind):
    from econ.errors import WeightsError

    df = panel("mpdta").assign(w=1.0)
    df.loc[5, "w"] = np.nan
    y, unit, time, cohort = PANELS["mpdta"]
    calls = {
        "twfe": lambda: twfe(df, y, unit, time, cohort, weights="w"),
        "event_study": lambda: event_study(df, y, unit, time, cohort, weights="w"),
        "placebo": lambda: placebo(df, y, unit, time, cohort=cohort, n_draws=2, progress=False, weights="w"),
        "att_gt": lambda: att_gt(df, y, unit, time, cohort, weights="w"),
        "sun_abraham": lambda: sun_abraham(df, y, unit, time, cohort, weights="w"),
        "imputation": lambda: imputation(df, y, unit, time, cohort, weights="w"),
        "compare": lambda: compare(df, y, unit, time, cohort, weights="w"),
    }
    with pytest.raises(WeightsError, match=r"weights column 'w' has 1 missing value\(s\), first rows \[5\]"):
        calls[kind]()


def test_estimators_without_a_weighted_version_refuse_weights_alike():
    from econ.errors import SpecificationError

    df = panel("mpdta").assign(w=1.0)
    with pytest.raises(SpecificationError, match=r"^bacon does not take weights= \(sampling weights\): "):
        bacon(df, *PANELS["mpdta"], weights="w")


@pytest.mark.parametrize("role", ["lemp", "countyreal", "year", "first.treat"])
def test_a_covariate_that_repeats_a_role_is_one_error_everywhere(role):
    """A covariate naming the outcome, unit, time or cohort column would regress a column on itself or on its
    own fixed effect; every covariate-taking staggered estimator refuses it with the same message."""
    from econ.errors import SpecificationError

    df = datasets.load("mpdta")
    messages = set()
    for fit in (att_gt, event_study, sun_abraham, imputation, compare):
        with pytest.raises(SpecificationError, match="repeat a column that already has a role") as err:
            fit(df, "lemp", "countyreal", "year", "first.treat", covariates=[role])
        messages.add(str(err.value))
    assert len(messages) == 1
