"""econ.montecarlo: identical results across backends/workers/batches, fault tolerance, resume, power."""

from __future__ import annotations

import functools
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from econ import montecarlo as mc
from econ.errors import SpecificationError


def _normal_sample(n: int = 25, effect: float = 0.0, seed: int = 0):
    """y ~ N(effect, 1), n draws: a design whose test power is known in closed form."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.normal(effect, 1.0, n)}), {"att_overall": effect}


def _t_test(data):
    y = data["y"].to_numpy()
    se = y.std(ddof=1) / math.sqrt(len(y))
    q = stats.t.ppf(0.975, len(y) - 1)
    return {"estimate": y.mean(), "se": se, "ci_low": y.mean() - q * se, "ci_high": y.mean() + q * se,
            "pvalue": 2 * stats.t.sf(abs(y.mean() / se), len(y) - 1)}


DESIGNS = mc.grid(mc.staggered, n_units=[30], effect=[0.0, 0.06], n_years=8)
ESTIMATORS = {"twfe": mc.estimators.twfe(), "placebo": mc.estimators.placebo(n_draws=49)}


@pytest.fixture(scope="module")
def serial():
    return mc.run(DESIGNS, ESTIMATORS, 5, seed=11, n_workers=1, progress=False)


def test_identical_across_local_workers_and_batches(serial):
    for workers, batch in [(2, 1), (2, 3), (1, 4)]:
        other = mc.run(DESIGNS, ESTIMATORS, 5, seed=11, n_workers=workers, batch_size=batch, progress=False)
        pd.testing.assert_frame_equal(serial.tidy(), other.tidy())


def test_identical_on_dask_with_one_and_two_workers(serial):
    from dask.distributed import Client, LocalCluster

    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            res = mc.run(DESIGNS, ESTIMATORS, 5, seed=11, backend="dask", client=client, batch_size=2,
                         progress=False)
        pd.testing.assert_frame_equal(serial.tidy(), res.tidy())


def test_more_replications_extend_the_same_sequence(serial):
    longer = mc.run(DESIGNS, ESTIMATORS, 7, seed=11, n_workers=1, progress=False).tidy()
    pd.testing.assert_frame_equal(longer[longer["rep"] < 5].reset_index(drop=True), serial.tidy())
    other_seed = mc.run(DESIGNS, ESTIMATORS, 5, seed=12, n_workers=1, progress=False).tidy()
    assert not np.allclose(other_seed["estimate"], serial.tidy()["estimate"])


def test_table_has_every_replication_once_with_truth(serial):
    tab = serial.tidy()
    assert len(tab) == 2 * 5 * 2
    assert not tab.duplicated(["design_id", "rep", "estimator"]).any()
    # the staggered design's truth: -(1 - urban_share) * peak effect, averaged along the ramp over treated years
    assert tab.loc[tab["effect"] == 0.0, "truth"].eq(0.0).all()
    assert tab.loc[tab["effect"] == 0.06, "truth"].lt(-0.02).all()
    assert set(tab.columns) >= {"design", "estimator", "rep", "estimate", "se", "ci_low", "ci_high", "truth"}


def test_killed_worker_tasks_rerun_and_each_replication_kept_once(tmp_path, serial):
    from dask.distributed import Client, LocalCluster

    marker = str(tmp_path / "killed")
    twfe = mc.estimators.twfe()

    def dies_once(data):
        # The first time replication 2 of the first design is estimated, the worker process is killed outright.
        if len(data) and data["log_income_ratio"].iloc[0] == first_value and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return twfe.fn(data, 0.95)

    first_value = float(DESIGNS[0].sample(mc.replication_seeds(11, 0, 2)[0])[0]["log_income_ratio"].iloc[0])
    ests = {"twfe": mc.Estimator(dies_once), "placebo": ESTIMATORS["placebo"]}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        res = mc.run(DESIGNS, ests, 5, seed=11, backend="dask", client=client, batch_size=1, progress=False)
    assert os.path.exists(marker), "the worker was never killed: the test did not exercise the fault"
    pd.testing.assert_frame_equal(serial.tidy(), res.tidy())


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path, serial):
    path = tmp_path / "study.parquet"
    marker = tmp_path / "interrupted"
    calls = tmp_path / "calls"  # counted in a file: state captured in the closure is part of the fingerprint
    twfe = mc.estimators.twfe()

    def interrupts_once(data, level):
        with open(calls, "a") as f:
            f.write(".")
        if calls.stat().st_size == 6 and not marker.exists():
            marker.touch()
            raise KeyboardInterrupt
        return twfe.fn(data, level)

    ests = {"twfe": mc.Estimator(interrupts_once), "placebo": ESTIMATORS["placebo"]}
    with pytest.raises(KeyboardInterrupt):
        mc.run(DESIGNS, ests, 5, seed=11, n_workers=1, batch_size=2, checkpoint=path, progress=False)
    partial = pd.read_parquet(path)
    assert 0 < partial[["design_id", "rep"]].drop_duplicates().shape[0] < 10
    resumed = mc.run(DESIGNS, ests, 5, seed=11, n_workers=1, batch_size=2, checkpoint=path, progress=False)
    assert calls.stat().st_size < 6 + 10  # finished replications were not recomputed
    pd.testing.assert_frame_equal(serial.tidy(), resumed.tidy())


def test_checkpoint_of_another_study_is_refused(tmp_path):
    path = tmp_path / "study.parquet"
    mc.run(DESIGNS[:1], {"twfe": ESTIMATORS["twfe"]}, 2, seed=1, n_workers=1, checkpoint=path, progress=False)
    with pytest.raises(SpecificationError, match="another study"):
        mc.run(DESIGNS[:1], {"twfe": ESTIMATORS["twfe"]}, 2, seed=2, n_workers=1, checkpoint=path, progress=False)


def test_metrics_match_hand_computation():
    d = mc.grid(_normal_sample, effect=[0.0, 0.5])
    res = mc.run(d, {"t": _t_test}, 60, seed=5, n_workers=1, progress=False)
    m = res.metrics().set_index("design")
    tab = res.tidy()
    for name, g in tab.groupby("design"):
        err = g["estimate"] - g["truth"]
        assert m.loc[name, "bias"] == pytest.approx(err.mean(), abs=1e-15)
        assert m.loc[name, "bias_mcse"] == pytest.approx(err.std(ddof=1) / math.sqrt(60))
        assert m.loc[name, "rmse"] == pytest.approx(math.sqrt((err**2).mean()))
        cov = ((g["ci_low"] <= g["truth"]) & (g["truth"] <= g["ci_high"])).mean()
        assert m.loc[name, "coverage"] == pytest.approx(cov)
        assert m.loc[name, "rejection_rate"] == pytest.approx((g["pvalue"] <= 0.05).mean())


def test_power_curve_matches_the_noncentral_t():
    effects = [0.0, 0.3, 0.6, 0.9]
    pw = mc.power(_normal_sample, _t_test, effects, n_reps=400, seed=2, n_workers=1, progress=False, n=25)
    curve = pw.tidy().set_index("effect")
    q = stats.t.ppf(0.975, 24)
    for e in effects:
        nc = e * 5.0
        exact = stats.nct.sf(q, 24, nc) + stats.nct.cdf(-q, 24, nc)
        se = math.sqrt(exact * (1 - exact) / 400)
        assert abs(curve.loc[e, "power"] - exact) < 3.5 * se + 1e-9, (e, curve.loc[e, "power"], exact)
    # minimum detectable effect at 80% power: about 0.58 for n = 25 (exact: the root below); the grid is coarse
    exact_mde = optimize.brentq(lambda e: stats.nct.sf(q, 24, 5 * e) + stats.nct.cdf(-q, 24, 5 * e) - 0.8, 0.1, 2)
    mde = pw.mde()["mde"].iloc[0]
    assert abs(mde - exact_mde) < 0.08, (mde, exact_mde)
    fig, ax = pw.plot()
    assert len(ax.lines) >= 2


def test_power_reports_unreached_target_as_nan():
    pw = mc.power(_normal_sample, _t_test, [0.0, 0.05], n_reps=30, seed=1, n_workers=1, progress=False)
    assert math.isnan(pw.mde()["mde"].iloc[0])


def test_failed_estimates_are_counted_and_named():
    def broken(data):
        raise ValueError("no variation")

    res = mc.run(mc.design(_normal_sample), {"t": _t_test, "broken": broken}, 3, seed=0, n_workers=1,
                 progress=False)
    m = res.metrics().set_index("estimator")
    assert m.loc["broken", "n_failed"] == 3 and m.loc["broken", "n_reps"] == 0
    assert "no variation" in res.summary()


@pytest.mark.parametrize("kwargs, message", [
    ({"n_reps": 0}, "n_reps"),
    ({"seed": -1}, "seed"),
    ({"backend": "spark"}, "backend"),
    ({"client": object()}, "client"),
    ({"batch_size": 0}, "batch_size"),
])
def test_bad_arguments_are_named(kwargs, message):
    args = {"n_reps": 2, **kwargs}
    with pytest.raises(SpecificationError, match=message):
        mc.run(mc.design(_normal_sample), {"t": _t_test}, **args, progress=False)


def test_bad_designs_and_estimators_are_named():
    with pytest.raises(SpecificationError, match="design"):
        mc.run("not a design", {"t": _t_test}, 2)
    with pytest.raises(SpecificationError, match="estimators"):
        mc.run(mc.design(_normal_sample), {}, 2)
    with pytest.raises(SpecificationError, match="does not take"):
        mc.grid(_normal_sample, n_units=[1, 2])
    with pytest.raises(SpecificationError, match="unknown field"):
        mc.run(mc.design(_normal_sample), {"t": lambda d: {"beta": 1.0}}, 1, n_workers=1, progress=False)


def test_local_backend_never_imports_dask():
    code = ("import sys; from econ import montecarlo as mc; "
            "mc.run(mc.design(mc.staggered, n_units=20, n_years=8), {'twfe': mc.estimators.twfe()}, 2, "
            "n_workers=1, progress=False); print('dask' in sys.modules or 'distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plots_return_fig_and_ax(serial, tmp_path):
    for kind in ("errors", "coverage", "rejection"):
        fig, ax = serial.plot(kind=kind, path=tmp_path / f"{kind}.png")
        assert (tmp_path / f"{kind}.png").stat().st_size > 0


def test_robust_estimator_wrappers_target_the_overall_att():
    """CS (simple aggregation) and BJS imputation estimate the mean effect over treated unit-years: with a
    constant effect every replication's interval should sit around that truth, and both agree with each other."""
    d = mc.design(mc.staggered, n_units=40, n_years=8, effect=0.06, shape="constant")
    res = mc.run(d, {"cs": mc.estimators.att_gt(), "bjs": mc.estimators.imputation()}, 8, seed=3, n_workers=1,
                 progress=False)
    m = res.metrics().set_index("estimator")
    for name in ("cs", "bjs"):
        assert m.loc[name, "n_failed"] == 0
        assert abs(m.loc[name, "bias"]) < 3 * m.loc[name, "bias_mcse"] + 1e-3
        assert m.loc[name, "truth"] == pytest.approx(-(1 - 0.25) * 0.06)


# ------------------------------------------------------------------ what a checkpoint is resumed by (fingerprint)
STUDY_MODULE = '''
import numpy as np
import pandas as pd

SHIFT = {shift}


def draw(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({{"y": rng.normal({mean}, 1.0, n)}}), {{"att_overall": 0.0}}


def mean(data):
    return float(data["y"].mean()) + SHIFT
'''


def _study_module(tmp_path, monkeypatch, mean="0.0", shift="0.0"):
    """A user's study file, (re)written and (re)imported: the same function names with new code or globals."""
    import importlib

    (tmp_path / "mc_user_study.py").write_text(STUDY_MODULE.format(mean=mean, shift=shift))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("mc_user_study")
    return importlib.reload(module)


def test_changed_draw_code_or_estimator_globals_refuse_the_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "study.parquet"
    mod = _study_module(tmp_path, monkeypatch)
    run = lambda m, n=3: mc.run(mc.design(m.draw, name="normal"), {"mean": m.mean}, n, seed=4,  # noqa: E731
                                n_workers=1, checkpoint=path, progress=False)
    first = run(mod, 2)
    mod = _study_module(tmp_path, monkeypatch)  # re-imported, unchanged: the same study resumes
    pd.testing.assert_frame_equal(run(mod).tidy().iloc[:2], first.tidy())
    mod = _study_module(tmp_path, monkeypatch, mean="0.5")  # the draw function's code changed
    with pytest.raises(SpecificationError, match=r"design 'normal' changed: its draw function's code"):
        run(mod)
    mod = _study_module(tmp_path, monkeypatch, shift="1.0")  # a global the estimator reads changed
    with pytest.raises(SpecificationError, match=r"estimator 'mean' changed: its code or options"):
        run(mod)


def test_changed_estimator_options_or_level_refuse_the_checkpoint(tmp_path):
    path = tmp_path / "study.parquet"
    design = mc.design(mc.staggered, n_units=20, n_years=8, effect=0.05)
    kwargs = dict(seed=2, n_workers=1, checkpoint=path, progress=False)
    first = mc.run(design, {"pl": mc.estimators.placebo(n_draws=19), "twfe": mc.estimators.twfe()}, 2, **kwargs)
    again = mc.run(design, {"pl": mc.estimators.placebo(n_draws=19), "twfe": mc.estimators.twfe()}, 2, **kwargs)
    pd.testing.assert_frame_equal(first.tidy(), again.tidy())  # new wrapper objects, same options: same study
    with pytest.raises(SpecificationError, match=r"estimator 'pl' changed: its code or options") as err:
        mc.run(design, {"pl": mc.estimators.placebo(n_draws=29), "twfe": mc.estimators.twfe()}, 2, **kwargs)
    assert "'twfe'" not in str(err.value) and "remove the file or give another checkpoint path" in str(err.value)
    with pytest.raises(SpecificationError, match=r"estimator 'twfe' changed"):
        mc.run(design, {"pl": mc.estimators.placebo(n_draws=19), "twfe": mc.estimators.twfe(vcov="hetero")}, 2,
               **kwargs)
    with pytest.raises(SpecificationError, match=r"the interval level \(0.95 -> 0.9\)"):
        mc.run(design, {"pl": mc.estimators.placebo(n_draws=19), "twfe": mc.estimators.twfe()}, 2, level=0.9,
               **kwargs)


# ------------------------------------------------------------------------------- level reaches the intervals
def _t_test_at(data, level):
    y = data["y"].to_numpy()
    se = y.std(ddof=1) / math.sqrt(len(y))
    q = stats.t.ppf(0.5 + level / 2, len(y) - 1)
    return {"estimate": y.mean(), "se": se, "ci_low": y.mean() - q * se, "ci_high": y.mean() + q * se}


def test_run_level_reaches_the_wrappers_and_functions_that_take_it():
    from econ import did

    design = mc.design(mc.staggered, n_units=30, n_years=8, effect=0.05)
    res = mc.run(design, {"twfe": mc.estimators.twfe()}, 2, seed=5, level=0.8, n_workers=1, progress=False)
    for row in res.tidy().itertuples():
        panel, _ = design.sample(mc.replication_seeds(5, 0, row.rep)[0])
        ci = did.twfe(panel, "log_income_ratio", "unit", "year", "treated").confint(0.8).loc["treated"]
        assert (row.ci_low, row.ci_high) == pytest.approx((ci.iloc[0], ci.iloc[1]), rel=1e-12)
    assert "coverage of 80% intervals" in res.summary() and not res.notes
    normal = mc.design(_normal_sample)
    res = mc.run(normal, {"at": _t_test_at, "own": _t_test}, 3, seed=1, level=0.5, n_workers=1, progress=False)
    tab = res.tidy().set_index(["rep", "estimator"])
    width = (tab["ci_high"] - tab["ci_low"]) / tab["se"]
    assert width.xs("at", level=1).to_numpy() == pytest.approx(2 * stats.t.ppf(0.75, 24))
    assert width.xs("own", level=1).to_numpy() == pytest.approx(2 * stats.t.ppf(0.975, 24))
    assert res.notes == ["estimator(s) ['own'] take no level: their intervals are their own, not necessarily 50%"]
    with pytest.raises(SpecificationError, match=r"\{'twfe': 0.9\} build intervals at their own level"):
        mc.run(design, {"twfe": mc.estimators.twfe(level=0.9)}, 1, level=0.95, n_workers=1, progress=False)
    fixed = mc.run(design, {"twfe": mc.estimators.twfe(level=0.8)}, 2, seed=5, level=0.8, n_workers=1,
                   progress=False)
    pd.testing.assert_frame_equal(fixed.tidy(), mc.run(design, {"twfe": mc.estimators.twfe()}, 2, seed=5, level=0.8,
                                                       n_workers=1, progress=False).tidy())
    with pytest.raises(SpecificationError, match="level must be in"):
        mc.run(normal, {"t": _t_test}, 1, level=95, progress=False)


# ------------------------------------------------------------------------------------------- start methods
def test_spawned_and_forked_workers_give_the_serial_table(monkeypatch):
    """Workers started by spawn (the only method on Windows) get the study pickled -- the wrappers and a lambda
    included -- and return the serial table; so does the fork fallback for what cannot be pickled."""
    from econ.montecarlo import runner

    design = mc.grid(mc.staggered, n_units=[20], n_years=8, effect=[0.0, 0.05])
    ests = {"twfe": mc.estimators.twfe(), "mean": lambda d: float(d["log_income_ratio"].mean())}
    serial = mc.run(design, ests, 2, seed=3, n_workers=1, progress=False).tidy()
    monkeypatch.setattr(runner, "_START_METHODS", ("spawn",))
    spawned = mc.run(design, ests, 2, seed=3, n_workers=2, batch_size=1, progress=False).tidy()
    pd.testing.assert_frame_equal(serial, spawned)
    monkeypatch.setattr(runner, "_payload", lambda study: None)  # as if nothing could be pickled
    forked = mc.run(design, ests, 2, seed=3, n_workers=2, batch_size=1, progress=False).tidy()
    pd.testing.assert_frame_equal(serial, forked)


def test_no_picklable_study_and_no_fork_is_a_clear_error(monkeypatch):
    import multiprocessing

    from econ.montecarlo import runner

    monkeypatch.setattr(runner, "_payload", lambda study: None)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    with pytest.raises(SpecificationError, match=r"design 'normal', estimator 't' cannot be pickled.*n_workers=1"):
        mc.run(mc.design(_normal_sample, name="normal"), {"t": _t_test}, 4, n_workers=2, batch_size=1,
               progress=False)


def _session_study():
    designs = mc.grid(mc.staggered, n_units=[20, 30], n_years=8)
    ests = {"pl": mc.estimators.placebo(n_draws=9), "es": mc.estimators.event_study(event_time=1, covariates=None),
            "cs": mc.estimators.att_gt(control="notyet"), "mean": mc.Estimator(np.mean, "att_overall", 0.9),
            "partial": mc.Estimator(functools.partial(mc.estimators.twfe().fn, level=0.9), "att_overall")}
    return designs, ests


def test_study_fingerprint_is_the_same_in_a_new_session():
    """A checkpoint is resumed from another Python session: the fingerprint must not depend on memory addresses,
    string hashing (set order) or the state of random generators."""
    import json

    from econ.montecarlo._fingerprint import study_parts

    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import test_montecarlo as t; "
            "from econ.montecarlo._fingerprint import study_parts; "
            "print(json.dumps(study_parts(3, 0.9, *t._session_study())))")
    out = subprocess.run([sys.executable, "-c", code, os.path.dirname(__file__)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert json.loads(out) == study_parts(3, 0.9, *_session_study())


def test_a_worker_that_cannot_load_the_study_says_so(monkeypatch):
    from econ.montecarlo import runner

    monkeypatch.setattr(runner, "_STATE", {})
    runner._init_local(b"not a pickle")
    with pytest.raises(SpecificationError, match="a worker process could not load the study.*n_workers=1"):
        runner._local_batch([(0, 0)])
