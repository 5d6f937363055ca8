"""Running a study: replications in batches, on this machine's cores or on a Dask cluster, with checkpoints.

Replication ``r`` of design ``d`` draws its panel and its estimator randomness from seeds that depend only on the
root seed and ``(d, r)`` (:func:`econ.montecarlo.designs.replication_seeds`), and every estimator sees the same
panel; batches only group replications for scheduling. So the table is identical for any backend, number of
workers or batch size, and a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from econ._validate import check_bool, check_choice, check_int, check_seed
from econ.errors import SpecificationError
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
        ``"local"``: this machine's cores (``n_workers`` forked processes; 1 = in this process). ``"dask"``:
        ``dask.distributed`` -- the ``client`` given (a ``Client`` or a scheduler address), else a
        ``LocalCluster`` of ``n_workers`` single-threaded processes on 127.0.0.1 that is closed afterwards.
        Tasks whose worker dies are re-run elsewhere by the scheduler; each replication is kept once.
    n_workers : int, optional
        Processes for ``"local"`` and for the default ``LocalCluster`` (default: the number of cores).
    batch_size : int, optional
        Replications per task (default: about four tasks per worker, at most 50 replications each).
    checkpoint : path, optional
        A ``.parquet`` file rewritten after every finished batch; if it exists, the study resumes from it (it
        must come from the same study: seed, designs and estimators).
    progress : bool
        A tqdm bar over replications.
    alpha, level : float
        Test level for rejection rates and the coverage the intervals claim (used by the summary).

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
        ``dask.distributed`` not installed; a checkpoint that is a directory, unreadable, unwritable or from
        another study; an estimator output with unknown or non-numeric fields. A draw function that raises
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

    store = _Checkpoint(checkpoint, _fingerprint(seed, designs, ests)) if checkpoint is not None else None
    done = store.done() if store else set()
    todo = [(d, r) for d in range(len(designs)) for r in range(n_reps) if (d, r) not in done]
    size = _batch_size(batch_size, len(todo), workers)
    batches = [todo[i:i + size] for i in range(0, len(todo), size)]

    rows = list(store.rows) if store else []
    bar = _bar(progress, len(designs) * n_reps, len(done))
    execute = _run_dask if backend == "dask" else _run_local
    for batch_rows in execute(batches, designs, ests, seed, workers, client):
        rows.extend(batch_rows)
        if store:
            store.add(batch_rows)
        if bar is not None:
            bar.update(len(batch_rows) // len(ests))
    if bar is not None:
        bar.close()
    table = _table(rows, designs, ests, n_reps)
    return MonteCarloResult(table, designs=designs, estimators=list(ests), n_reps=n_reps, seed=seed, alpha=alpha,
                            level=level, backend=backend)


# ---------------------------------------------------------------------------------------------------- one batch
def run_batch(designs: Sequence[Design], estimators: Mapping, items, seed: int) -> list[dict]:
    """Rows of the replications ``items`` (pairs ``(design index, rep)``): every estimator on each panel.

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
                out = est(data, est_seed)
            except Exception as exc:  # noqa: BLE001 - recorded per replication, reported by the summary
                row.update({k: math.nan for k in FIELDS}, error=f"{type(exc).__name__}: {exc}")
            else:
                row.update(as_row(out), error="")  # a malformed output is the caller's bug: it stops the study
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------- backends
_STATE: dict = {}


def _init_local(designs, estimators, seed) -> None:
    _STATE.update(designs=designs, estimators=estimators, seed=seed)


def _local_batch(items) -> list[dict]:
    return run_batch(_STATE["designs"], _STATE["estimators"], items, _STATE["seed"])


def _run_local(batches, designs, ests, seed, workers, client):
    if workers == 1 or len(batches) <= 1:
        for items in batches:
            yield run_batch(designs, ests, items, seed)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # fork: the children inherit designs and estimators (lambdas included) without pickling them.
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=ctx, initializer=_init_local,
                             initargs=(designs, ests, seed)) as pool:
        futures = [pool.submit(_local_batch, items) for items in batches]
        for fut in as_completed(futures):
            yield fut.result()


def _run_dask(batches, designs, ests, seed, workers, client):
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
        futures = [client.submit(run_batch, designs, ests, items, seed, pure=False, retries=3) for items in batches]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


# ---------------------------------------------------------------------------------------------------- checkpoints
class _Checkpoint:
    """A parquet file of finished rows, rewritten atomically after each batch; ``study`` holds the fingerprint."""

    def __init__(self, path, fingerprint: str):
        self.path = Path(path)
        if self.path.is_dir():
            raise SpecificationError(f"checkpoint {str(self.path)!r} is a directory; give a .parquet file name")
        self.fingerprint = fingerprint
        self.rows: list[dict] = []
        if self.path.exists():
            try:
                old = pd.read_parquet(self.path)
            except (OSError, ImportError, ValueError) as exc:
                raise SpecificationError(f"cannot read checkpoint {str(self.path)!r}: {exc}") from None
            studies = set(old["study"]) if "study" in old else set()
            if studies != {fingerprint}:
                raise SpecificationError(
                    f"checkpoint {str(self.path)!r} belongs to another study (different seed, designs or "
                    "estimators); remove it or give another path")
            self.rows = old.drop(columns="study").to_dict(orient="records")

    def done(self) -> set:
        return {(int(r["design_id"]), int(r["rep"])) for r in self.rows}

    def add(self, rows: list[dict]) -> None:
        self.rows.extend(rows)
        frame = pd.DataFrame(self.rows).assign(study=self.fingerprint)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            frame.to_parquet(tmp, index=False)
            os.replace(tmp, self.path)
        except (OSError, ImportError) as exc:
            raise SpecificationError(f"cannot write checkpoint {str(self.path)!r}: {exc}") from None


def _fingerprint(seed, designs, ests) -> str:
    spec = {"seed": seed, "designs": [(d.name, getattr(d.draw, "__qualname__", repr(d.draw)),
                                       sorted((k, repr(v)) for k, v in d.params.items())) for d in designs],
            "estimators": list(ests)}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


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
