"""Running a study: replications in batches, on this machine's cores or on a Dask cluster, with checkpoints.

Replication ``r`` of design ``d`` draws its panel and its estimator randomness from seeds that depend only on the
root seed and ``(d, r)`` (:func:`econ.montecarlo.designs.replication_seeds`), and every estimator sees the same
panel; batches only group replications for scheduling. So the table is identical for any backend, number of
workers, start method or batch size, and a resumed run equals an uninterrupted one.

Local worker processes are started with ``forkserver`` (``spawn`` where there is none, as on Windows): the
designs and estimators are sent to them pickled with ``cloudpickle`` (a runtime dependency), so lambdas, closures
and the ready-made wrappers travel too on every platform. Only when they cannot be pickled
and the platform has ``fork`` are the workers forked (they then inherit the objects without pickling); otherwise
the study stops with an error naming what could not be pickled.
"""

from __future__ import annotations

import json
import math
import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from econ._validate import check_bool, check_choice, check_int, check_seed
from econ.errors import SpecificationError
from econ.montecarlo._fingerprint import digest, study_parts
from econ.montecarlo.designs import Design, replication_seeds
from econ.montecarlo.estimators import FIELDS, as_estimator, as_row
from econ.montecarlo.results import MonteCarloResult

__all__ = ["run"]

BACKENDS = ("local", "dask")


def run(design, estimators, n_reps: int, *, seed: int = 0, backend: str = "local", client=None,
        n_workers: int | None = None, batch_size: int | None = None, checkpoint=None, progress: bool = True,
        alpha: float = 0.05, level: float = 0.95) -> MonteCarloResult:
    """Run a Monte Carlo study: ``n_reps`` replications of every design, every estimator on each panel.

    Parameters
    ----------
    design : Design or sequence of Design
        From :func:`econ.montecarlo.design` or :func:`econ.montecarlo.grid`.
    estimators : mapping of str to callable or Estimator
        Names and estimators (see :mod:`econ.montecarlo.estimators`); a bare callable targets
        ``truth["att_overall"]``.
    n_reps : int
        Replications per design.
    seed : int
        Root seed; replication seeds are spawned from it by position (``SeedSequence(seed).spawn`` keys).
    backend : {"local", "dask"}
        ``"local"``: this machine's cores (``n_workers`` processes started with ``forkserver``, or ``spawn``
        where there is none; ``fork`` only for objects that cannot be pickled; 1 = in this process). ``"dask"``:
        ``dask.distributed`` -- the ``client`` given (a ``Client`` or a scheduler address), else a
        ``LocalCluster`` of ``n_workers`` single-threaded processes on 127.0.0.1 that is closed afterwards.
        Tasks whose worker dies are re-run elsewhere by the scheduler; each replication is kept once.
    n_workers : int, optional
        Processes for ``"local"`` and for the default ``LocalCluster`` (default: the number of cores).
    batch_size : int, optional
        Replications per task (default: about four tasks per worker, at most 50 replications each).
    checkpoint : path, optional
        A ``.parquet`` file rewritten after every finished batch; if it exists, the study resumes from it. It
        must come from the same study: the same seed, ``level``, econ version, design names, draw functions (their
        source) and parameters, and estimator names, code (source) and options (everything the estimator
        callables capture; see :mod:`econ.montecarlo._fingerprint`); otherwise it is refused, naming what
        differs. ``n_reps`` may grow: a longer run extends a shorter one.
    progress : bool
        A tqdm bar over replications.
    alpha : float
        Test level of the rejection rates (and of the power in :func:`econ.montecarlo.power`).
    level : float
        Level of the intervals: given to every estimator that takes ``level`` (the ready-made wrappers build
        their intervals at it unless they were given their own ``level``, which must then equal this one); the
        coverage in ``metrics()`` and ``summary()`` is that of these intervals. Estimators that take no ``level``
        build their own intervals; the result's notes name them.

    Returns
    -------
    MonteCarloResult
        ``tidy()``: one row per (design, replication, estimator); ``metrics()``: bias, RMSE, coverage and
        rejection rate with Monte Carlo standard errors; ``summary()``; ``plot()``.

    Raises
    ------
    SpecificationError
        ``design`` not a Design or a non-empty list of Designs with unique names; ``estimators`` not a non-empty
        mapping of names to callables; ``n_reps``, ``n_workers`` or ``batch_size`` not a positive integer;
        ``seed`` not a non-negative integer; unknown ``backend``; ``client`` without ``backend="dask"``;
        ``dask.distributed`` not installed; ``alpha`` or ``level`` outside (0, 1); an estimator whose own ``level``
        differs from ``level``; workers that can be neither sent pickled designs and estimators nor forked; a
        checkpoint that is a directory, unreadable, unwritable or from another study (the message names the part
        that differs); an estimator output with unknown or non-numeric fields. A draw function that raises
        stops the study with its own error; an estimator that raises only marks that replication as failed.

    Examples
    --------
    >>> from econ import montecarlo as mc
    >>> d = mc.design(mc.staggered, n_units=30, n_years=8, effect=0.05)
    >>> res = mc.run(d, {"twfe": mc.estimators.twfe()}, n_reps=4, seed=1, progress=False)
    >>> res.tidy()[["rep", "estimator"]].shape
    (4, 2)
    """
    designs = _designs(design)
    ests = _estimators(estimators)
    n_reps = check_int(n_reps, "n_reps", minimum=1)
    seed = check_seed(seed)
    if not isinstance(seed, int):
        raise SpecificationError(f"seed must be an integer for a Monte Carlo study, got {seed!r}")
    check_choice(backend, "backend", BACKENDS)
    progress = check_bool(progress, "progress")
    if client is not None and backend != "dask":
        raise SpecificationError("client= is only used with backend='dask'")
    workers = check_int(n_workers, "n_workers", minimum=1) if n_workers is not None else (os.cpu_count() or 1)
    alpha, level = _unit_interval(alpha, "alpha"), _unit_interval(level, "level")
    fixed = {name: est.level for name, est in ests.items() if est.level is not None and est.level != level}
    if fixed:
        raise SpecificationError(f"estimator(s) {fixed} build intervals at their own level, but run(level={level!r}) "
                                 "labels the coverage; give the same level, or leave the estimators' level unset")

    store = _Checkpoint(checkpoint, study_parts(seed, level, designs, ests)) if checkpoint is not None else None
    done = store.done() if store else set()
    todo = [(d, r) for d in range(len(designs)) for r in range(n_reps) if (d, r) not in done]
    size = _batch_size(batch_size, len(todo), workers)
    batches = [todo[i:i + size] for i in range(0, len(todo), size)]

    rows = list(store.rows) if store else []
    bar = _bar(progress, len(designs) * n_reps, len(done))
    execute = _run_dask if backend == "dask" else _run_local
    for batch_rows in execute(batches, designs, ests, seed, level, workers, client):
        rows.extend(batch_rows)
        if store:
            store.add(batch_rows)
        if bar is not None:
            bar.update(len(batch_rows) // len(ests))
    if bar is not None:
        bar.close()
    table = _table(rows, designs, ests, n_reps)
    own = [name for name, est in ests.items() if not est.takes_level]
    return MonteCarloResult(table, designs=designs, estimators=list(ests), n_reps=n_reps, seed=seed, alpha=alpha,
                            level=level, backend=backend, own_level=own)


# ---------------------------------------------------------------------------------------------------- one batch
def run_batch(designs: Sequence[Design], estimators: Mapping, items, seed: int, level: float = 0.95) -> list[dict]:
    """Rows of the replications ``items`` (pairs ``(design index, rep)``): every estimator on each panel, its
    intervals at ``level``.

    An estimator that raises gives NaN fields and its message in ``error`` (the summary counts and names them);
    a design whose draw raises, or an estimator output that is not a number or a mapping of :data:`FIELDS`,
    stops the study.
    """
    rows = []
    for d, r in items:
        data_seed, est_seed = replication_seeds(seed, d, r)
        data, truth = designs[d].sample(data_seed)
        for name, est in estimators.items():
            row = {"design_id": d, "rep": r, "estimator": name, "truth": est.truth(truth)}
            try:
                out = est(data, est_seed, level)
            except Exception as exc:  # noqa: BLE001 - recorded per replication, reported by the summary
                row.update({k: math.nan for k in FIELDS}, error=f"{type(exc).__name__}: {exc}")
            else:
                row.update(as_row(out), error="")  # a malformed output is the caller's bug: it stops the study
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------- backends
_STATE: dict = {}
_START_METHODS = ("forkserver", "spawn")  # in order of preference; "fork" only for what cannot be pickled


def _init_local(payload: bytes) -> None:
    """Worker initialiser: unpickle the study (``pickle.loads`` also reads cloudpickle's output). A failure (a
    module the worker cannot import) is kept and raised, with its cause, by the first batch."""
    try:
        _STATE.update(zip(("designs", "estimators", "seed", "level"), pickle.loads(payload)))
    except Exception as exc:  # noqa: BLE001 - reported by _local_batch in the parent's terms
        _STATE["error"] = f"{type(exc).__name__}: {exc}"


def _init_forked(designs, estimators, seed, level) -> None:
    _STATE.update(designs=designs, estimators=estimators, seed=seed, level=level)


def _local_batch(items) -> list[dict]:
    if "error" in _STATE:
        raise SpecificationError(f"a worker process could not load the study ({_STATE['error']}); define the draw "
                                 "functions and estimators in an importable module, or use n_workers=1")
    return run_batch(_STATE["designs"], _STATE["estimators"], items, _STATE["seed"], _STATE["level"])


def _payload(study) -> bytes | None:
    """The study pickled for worker processes (cloudpickle for lambdas and closures); None if it cannot be
    pickled."""
    import cloudpickle

    for dumps in (pickle.dumps, cloudpickle.dumps):
        try:
            return dumps(study)
        except Exception:  # noqa: BLE001 - pickling errors come in many types (PicklingError, TypeError, ...)
            continue
    return None


def _unpicklable(designs, ests) -> list[str]:
    """Names of the designs and estimators that cannot be pickled (for the error message)."""
    bad = []
    for label, obj in [*((f"design {d.name!r}", d) for d in designs), *((f"estimator {k!r}", e)
                                                                         for k, e in ests.items())]:
        if _payload(obj) is None:
            bad.append(label)
    return bad


def _pool_context(designs, ests, seed, level):
    """``(multiprocessing context, initializer, initargs)`` for the local workers (see the module docstring)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    payload = _payload((designs, ests, seed, level))
    if payload is not None:
        method = next((m for m in _START_METHODS if m in methods), "spawn")
        ctx = multiprocessing.get_context(method)
        if method == "forkserver":  # the server imports econ once; the workers it forks start with it loaded
            ctx.set_forkserver_preload([__name__])
        return ctx, _init_local, (payload,)
    if "fork" in methods:
        return multiprocessing.get_context("fork"), _init_forked, (designs, ests, seed, level)
    raise SpecificationError(
        f"{', '.join(_unpicklable(designs, ests)) or 'the study'} cannot be pickled for worker processes and this "
        "platform cannot fork: define draw functions and estimators at module level, or use n_workers=1 or "
        "backend='dask'")


def _run_local(batches, designs, ests, seed, level, workers, client):
    if workers == 1 or len(batches) <= 1:
        for items in batches:
            yield run_batch(designs, ests, items, seed, level)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx, init, initargs = _pool_context(designs, ests, seed, level)
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=ctx, initializer=init,
                             initargs=initargs) as pool:
        futures = [pool.submit(_local_batch, items) for items in batches]
        for fut in as_completed(futures):
            yield fut.result()


def _run_dask(batches, designs, ests, seed, level, workers, client):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SpecificationError("backend='dask' needs dask.distributed: pip install 'econ-placebased[dask]'") from None
    own = client is None
    if own:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    elif isinstance(client, str):
        client, own = Client(client), True
        cluster = None
    try:
        futures = [client.submit(run_batch, designs, ests, items, seed, level, pure=False, retries=3)
                   for items in batches]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


# ---------------------------------------------------------------------------------------------------- checkpoints
class _Checkpoint:
    """A parquet file of finished rows, rewritten atomically after each batch; ``study`` holds the study's
    fingerprint and ``study_parts`` (JSON) the hash of each of its parts, to name what changed."""

    def __init__(self, path, parts: dict[str, str]):
        self.path = Path(path)
        if self.path.is_dir():
            raise SpecificationError(f"checkpoint {str(self.path)!r} is a directory; give a .parquet file name")
        self.parts = json.dumps(parts, sort_keys=True)
        self.fingerprint = digest(parts)
        self.rows: list[dict] = []
        if self.path.exists():
            try:
                old = pd.read_parquet(self.path)
            except (OSError, ImportError, ValueError) as exc:
                raise SpecificationError(f"cannot read checkpoint {str(self.path)!r}: {exc}") from None
            studies = set(old["study"]) if "study" in old else set()
            if studies != {self.fingerprint}:
                stored = json.loads(old["study_parts"].iloc[0]) if "study_parts" in old and len(old) else {}
                raise SpecificationError(
                    f"checkpoint {str(self.path)!r} belongs to another study ({_what_differs(stored, parts)}): its "
                    "rows would not be this study's; remove the file or give another checkpoint path to start anew")
            self.rows = old.drop(columns=["study", "study_parts"], errors="ignore").to_dict(orient="records")

    def done(self) -> set:
        return {(int(r["design_id"]), int(r["rep"])) for r in self.rows}

    def add(self, rows: list[dict]) -> None:
        self.rows.extend(rows)
        frame = pd.DataFrame(self.rows).assign(study=self.fingerprint, study_parts=self.parts)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            frame.to_parquet(tmp, index=False)
            os.replace(tmp, self.path)
        except (OSError, ImportError) as exc:
            raise SpecificationError(f"cannot write checkpoint {str(self.path)!r}: {exc}") from None


def _what_differs(stored: dict, now: dict) -> str:
    """The parts of a study that changed, in words (seed, level, econ version, designs, estimators)."""
    if not stored:
        return "written by an earlier version of econ.montecarlo, or by another study"
    words = {"seed": "the seed", "level": "the interval level", "econ": "the econ version",
             "designs": "the design names", "estimators": "the estimator names"}
    changed = []
    for key in now:
        if key not in stored or stored[key] == now[key]:
            continue  # a part only one study has is reported through the names
        if key in ("seed", "level", "econ"):
            changed.append(f"{words[key]} ({stored[key]} -> {now[key]})")
        elif key in words:
            changed.append(words[key])
        elif key.startswith("design"):
            changed.append(f"{key} changed: its draw function's code or its parameters")
        else:
            changed.append(f"{key} changed: its code or options (or data its function captures)")
    return "; ".join(changed) or "a different study"


def _unit_interval(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise SpecificationError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------------------------- helpers
def _designs(design) -> list[Design]:
    designs = [design] if isinstance(design, Design) else list(design) if isinstance(design, (list, tuple)) else None
    if not designs or not all(isinstance(d, Design) for d in designs):
        raise SpecificationError("design must be a Design or a non-empty list of them (econ.montecarlo.design / "
                                 f"grid), got {type(design).__name__}")
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise SpecificationError(f"design names must be unique, got {names}")
    return designs


def _estimators(estimators) -> dict:
    if not isinstance(estimators, Mapping) or not estimators:
        raise SpecificationError("estimators must be a non-empty mapping of name -> estimator, got "
                                 f"{type(estimators).__name__}")
    bad = [k for k in estimators if not isinstance(k, str)]
    if bad:
        raise SpecificationError(f"estimator names must be strings, got {bad}")
    return {name: as_estimator(est) for name, est in estimators.items()}


def _batch_size(batch_size, n_items: int, workers: int) -> int:
    if batch_size is not None:
        return check_int(batch_size, "batch_size", minimum=1)
    return max(1, min(50, math.ceil(n_items / (4 * workers)))) if n_items else 1


def _bar(progress: bool, total: int, initial: int):
    if not progress:
        return None
    from econ._progress import tqdm

    return tqdm(total=total, initial=initial, desc="replications", leave=False)


def _table(rows, designs, ests, n_reps) -> pd.DataFrame:
    cols = ["design_id", "rep", "estimator", *FIELDS, "truth", "error"]
    table = pd.DataFrame(rows, columns=cols)
    table = table[table["rep"] < n_reps]  # a checkpoint of a longer run of the same study
    order = {name: k for k, name in enumerate(ests)}
    table = (table.assign(_e=table["estimator"].map(order))
             .sort_values(["design_id", "rep", "_e"], kind="mergesort").drop(columns="_e").reset_index(drop=True))
    table["design_id"] = table["design_id"].astype(np.int64)
    table["rep"] = table["rep"].astype(np.int64)
    expected = len(designs) * n_reps * len(ests)
    dup = table.duplicated(["design_id", "rep", "estimator"])
    if dup.any() or len(table) != expected:
        raise RuntimeError(f"internal error: {len(table)} rows for {expected} expected replications "
                           f"({int(dup.sum())} duplicated)")
    names = pd.Series([d.name for d in designs])
    table.insert(1, "design", names.to_numpy()[table["design_id"].to_numpy()])
    return table
