"""Spatial models: econ.spatial.fit against spreg (PySAL) in the same run, cross-section part.

SAR and SEM by maximum likelihood on a k-nearest-neighbour W (k = 6, row-standardised, uniform random points) at
N = 3,000 and 30,000 (quick: 1,000). spreg runs with ``method="LU"`` (sparse; its ``"full"`` method is dense and
cannot run at 30,000). econ uses its automatic choice (eigenvalues up to 2,000 units, sparse LU beyond; exact
information-matrix traces up to 5,000, Hutchinson beyond). The spreg run at 30,000 is skipped when
``ECON_BENCH_SPREG_MAX_N`` (default 3,000) is smaller: spreg's LU method inverts ``I - rho W`` for its standard
errors (``spsolve(A, I)``), which at 30,000 kNN units ran past 4 GB here before it was stopped. The panel part lives below (section "panel").

Global Moran's I (issue 23, :func:`moran_rows`): 999 permutations on the same kNN-6 weights at N = 500, 3,000 and
10,000 against ``esda.Moran(y, w, permutations=999)``; I and its analytic moments are checked to agree to 1e-12,
then both are timed interleaved (median of the repeats). The permutation draws differ (numpy's Generator here,
the legacy global stream in esda), so the permutation p-values are only compared in size.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import spsolve
from scipy.spatial import cKDTree

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from _timing import print_ratios, time_call, time_interleaved  # noqa: E402

import econ.spatial as sp  # noqa: E402


def knn_weights(n: int, k: int = 6, seed: int = 0) -> sp.Weights:
    """Row-standardised kNN weights on uniform random points (KD-tree; no dense n x n matrix)."""
    xy = np.random.default_rng(seed).uniform(size=(n, 2))
    _, idx = cKDTree(xy).query(xy, k + 1)
    rows, cols = np.repeat(np.arange(n), k), idx[:, 1:].ravel()
    m = sparse.csr_matrix((np.ones(n * k), (rows, cols)), shape=(n, n))
    return sp.Weights(tuple(range(n)), m, "b").row_standardize()


def cross_section(n: int, model: str, W: sp.Weights, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    A = (sparse.identity(n, format="csc") - 0.5 * W.matrix).tocsc()
    e = rng.normal(size=n)
    if model == "sar":
        y = spsolve(A, 1 + X @ np.array([1.0, -1.0]) + e)
    else:
        y = 1 + X @ np.array([1.0, -1.0]) + spsolve(A, e)
    return pd.DataFrame({"y": y, "x1": X[:, 0], "x2": X[:, 1]})


def moran_rows(quick: bool = False) -> list[dict]:
    """Global Moran's I, 999 permutations, econ vs esda (interleaved medians)."""
    import esda
    import libpysal

    rows = []
    for n in ([500, 3000] if quick else [500, 3000, 10_000]):
        W = knn_weights(n)
        w = libpysal.weights.WSP(W.matrix).to_W(silence_warnings=True)
        w.transform = "r"
        y = np.random.default_rng(5).normal(size=n) + 0.3 * (W.matrix @ np.random.default_rng(6).normal(size=n))
        ours, ref = sp.moran(y, W, n_draws=999, seed=0), esda.Moran(y, w, permutations=999)
        gap = max(abs(ours.I - ref.I), abs(ours.var_rand - ref.VI_rand), abs(ours.z_norm - ref.z_norm))
        assert gap < 1e-12, gap
        repeat = 7 if quick else 15
        t = time_interleaved({"econ": lambda: sp.moran(y, W, n_draws=999, seed=0),
                              "esda": lambda: esda.Moran(y, w, permutations=999)}, repeat=repeat)
        rows.append({"workload": f"global Moran's I, 999 permutations, kNN-6, N={n:,}", "econ_seconds": t["econ"],
                     "peer": "esda.Moran", "peer_seconds": t["esda"],
                     "note": f"I/moments gap {gap:.1e}; p_sim econ {ours.p_sim:.3f}, esda {ref.p_sim:.3f}; "
                             f"median of {repeat}, interleaved"})
        print(rows[-1], flush=True)
    print_ratios(rows, "Global Moran's I with permutations (econ vs esda; target >= 1x)")
    return rows


def main(quick: bool = False) -> None:
    import libpysal
    import spreg

    moran_rows(quick)

    sizes = [1000] if quick else [3000, 30000]
    spreg_max = int(os.environ.get("ECON_BENCH_SPREG_MAX_N", "3000"))
    rows = []
    for n in sizes:
        W = knn_weights(n)
        w = libpysal.weights.WSP(W.matrix).to_W(silence_warnings=True)
        for model in ("sar", "sem"):
            df = cross_section(n, model, W)
            res = {}
            econ_s = time_call(lambda: res.__setitem__("r", sp.fit("y ~ x1 + x2", df, W, model=model)), repeat=1)
            peer_s, note = None, ""
            if n <= spreg_max:
                cls = spreg.ML_Lag if model == "sar" else spreg.ML_Error
                y, x = df[["y"]].to_numpy(), df[["x1", "x2"]].to_numpy()
                out = {}
                peer_s = time_call(lambda: out.__setitem__("m", cls(y, x, w, method="LU")), repeat=1)
                diff = np.max(np.abs(res["r"].coef.to_numpy() - out["m"].betas.ravel()))
                note = f"max |coef diff| {diff:.1e}"
            else:
                note = f"spreg skipped (N > ECON_BENCH_SPREG_MAX_N={spreg_max})"
            rows.append({"workload": f"{model.upper()} ML, kNN-6, N={n:,}", "econ_seconds": econ_s,
                         "peer": "spreg LU", "peer_seconds": peer_s, "note": note})
            print(rows[-1], flush=True)
        if n == sizes[-1]:
            df = cross_section(n, "sar", W)
            r = sp.fit("y ~ x1 + x2", df, W, model="sdm")
            imp_s = time_call(lambda: r.impacts(n_draws=1000), repeat=1)
            rows.append({"workload": f"SDM impacts, 1,000 draws, N={n:,}", "econ_seconds": imp_s, "peer": "-",
                         "peer_seconds": None, "note": "spreg has no simulated SDM impact SEs"})
    print_ratios(rows, "Spatial cross-section ML (econ vs spreg)")


if __name__ == "__main__":
    moran_rows(quick="--quick" in sys.argv) if "--moran" in sys.argv else main(quick="--quick" in sys.argv)
