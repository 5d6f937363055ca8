"""Spatial panel ML with unit fixed effects: econ.spatial.fit(..., time=...) against spreg's panel ML, same run.

Workload (``knn_panel``): ``n`` points uniform in the unit square, row-standardised k-nearest-neighbour weights
(k = 6, sparse, built with a KD-tree), ``T = 10`` periods, ``y_t = (I - rho W)^{-1}(X_t b + mu + e_t)`` with
``rho = 0.4`` (SAR/SDM: plus ``W X_t theta``) or the error process ``u_t = (I - lambda W)^{-1} e_t`` (SEM).

Timing: econ and spreg interleaved, median of 9 rounds at n <= 1,000 (3 beyond).

Rows: SAR and SEM panels at n = 500, 3,000 and 10,000 (spreg's ``Panel_FE_Lag``/``Panel_FE_Error``, direct
approach, ``lee_yu=False`` in econ so both estimate the same thing); SDM with impacts (1,000 draws) at the same
sizes against spreg's ``Panel_FE_Lag`` on ``[X, WX]`` (spreg has no panel impacts); and econ alone at n = 30,000
(SDM + impacts), with its wall time and peak resident memory. spreg builds dense n x n matrices (its inverse of
``I - rho W`` and Kronecker products of them), so it is skipped beyond n = 3,000.

    python benchmarks/bench_spatial_panel.py [--quick]
"""

from __future__ import annotations

import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import linalg as spla
from scipy.spatial import cKDTree

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import print_ratios, time_call, time_interleaved  # noqa: E402

import econ.spatial as sp  # noqa: E402

SPREG_MAX_N = 3000


def knn_weights(n: int, k: int = 6, seed: int = 0) -> sp.Weights:
    """Row-standardised kNN weights on ``n`` uniform points (sparse; never dense)."""
    pts = np.random.default_rng(seed).uniform(size=(n, 2))
    _, idx = cKDTree(pts).query(pts, k + 1)
    rows, cols = np.repeat(np.arange(n), k), idx[:, 1:].ravel()
    m = sparse.csr_matrix((np.full(n * k, 1.0 / k), (rows, cols)), shape=(n, n))
    return sp.Weights(tuple(range(n)), m, "r")


def knn_panel(n: int, T: int = 10, model: str = "sar", seed: int = 0):
    """A long panel (columns id, t, y, x1, x2) and its kNN weights; see the module docstring."""
    rng = np.random.default_rng(seed)
    W = knn_weights(n, seed=seed)
    lu = spla.splu((sparse.identity(n, format="csc") - 0.4 * W.matrix).tocsc())
    mu = rng.normal(size=n)
    frames = []
    for t in range(T):
        x = rng.normal(size=(n, 2)) + 0.3 * mu[:, None]
        xb = x @ np.array([1.0, -0.5])
        if model == "sdm":
            xb = xb + W.matrix @ x @ np.array([0.5, 0.2])
        e = rng.normal(size=n)
        y = lu.solve(xb + mu + e) if model in ("sar", "sdm") else xb + mu + lu.solve(e)
        frames.append(pd.DataFrame({"id": np.arange(n), "t": t, "y": y, "x1": x[:, 0], "x2": x[:, 1]}))
    return pd.concat(frames, ignore_index=True), W


def _spreg_inputs(data: pd.DataFrame, W: sp.Weights, durbin: bool):
    import libpysal

    w = libpysal.weights.WSP(W.matrix.tocsr()).to_W(silence_warnings=True)
    w.transform = "r"
    y = data["y"].to_numpy()[:, None]  # data are time-major: spreg's long format
    x = data[["x1", "x2"]].to_numpy()
    if durbin:
        T = data["t"].nunique()
        wx = np.vstack([W.matrix @ x[t * W.n:(t + 1) * W.n] for t in range(T)])
        x = np.column_stack([x, wx])
    return y, x, w


def _econ(data, W, model, impacts=False):
    def run():
        res = sp.fit("y ~ x1 + x2", data, W, model=model, unit="id", time="t", effects="unit", lee_yu=False)
        if impacts:
            res.impacts(n_draws=1000, seed=0)
        return res
    return run


def _spreg(data, W, model):
    import spreg

    y, x, w = _spreg_inputs(data, W, durbin=model == "sdm")
    cls = spreg.Panel_FE_Error if model == "sem" else spreg.Panel_FE_Lag

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(y, x, w)
    return run


def _agreement(econ_res, spreg_res) -> str:
    b = econ_res.coef.to_numpy()
    ref = spreg_res.betas.ravel()
    return f"max rel. coef diff {np.max(np.abs(b - ref) / np.maximum(np.abs(ref), 1e-12)):.1e}"


def large(n: int = 30_000, T: int = 10) -> dict:
    """econ alone: SDM panel + impacts (1,000 draws) at ``n`` units; wall seconds and peak RSS (GB)."""
    data, W = knn_panel(n, T, "sdm", seed=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _econ(data, W, "sdm", impacts=True)()
    seconds = time.perf_counter() - start
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux
    return {"workload": f"SDM + impacts n={n:,} T={T}", "econ_seconds": seconds, "peer": "spreg",
            "peer_seconds": None, "note": f"peak RSS of the process {rss_gb:.2f} GB; spreg needs dense n x n"}


def main(quick: bool = False, models=("sar", "sem", "sdm"), sizes=None, with_large: bool = True) -> list[dict]:
    sizes = sizes or ([300, 1000] if quick else [500, 3000, 10_000])
    rows = []
    if not quick and with_large:
        rows.append(large())  # first, so the peak memory is econ's, not spreg's
    for model in models:
        for n in sizes:
            data, W = knn_panel(n, 10, model, seed=1)
            econ_fn = _econ(data, W, model, impacts=model == "sdm")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                label = f"{model.upper()}{' + impacts' if model == 'sdm' else ''} n={n:,} T=10"
                if n > SPREG_MAX_N:
                    econ_s = time_call(econ_fn, repeat=1)
                    rows.append({"workload": label, "econ_seconds": econ_s, "peer": "spreg", "peer_seconds": None,
                                 "note": "spreg skipped: dense n x n inverse and Kronecker products"})
                    continue
                spreg_fn = _spreg(data, W, model)
                note = _agreement(econ_fn(), spreg_fn())
                repeat = 9 if n <= 1000 else 3  # interleaved, median
                t = time_interleaved({"econ": econ_fn, "spreg": spreg_fn}, repeat=repeat)
            rows.append({"workload": label, "econ_seconds": t["econ"], "peer": "spreg", "peer_seconds": t["spreg"],
                         "note": f"{note}; median of {repeat}, interleaved"})
            print(rows[-1], flush=True)
    print_ratios(rows, "Spatial panel ML, unit fixed effects (spreg Panel_FE_Lag / Panel_FE_Error)")
    return rows


if __name__ == "__main__":
    if "--sem500" in sys.argv:  # the row of issue 23 alone
        main(models=("sem",), sizes=[500], with_large=False)
    else:
        main(quick="--quick" in sys.argv)
