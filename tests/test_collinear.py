"""econ.panel.collinear: the block-wise centred norms equal the whole-column computation."""

import numpy as np


def test_block_path_equals_whole_column_norms():
    """Panels longer than one block get their centred norms block by block (no n x k copy): same numbers, same
    absorbed / kept decisions as the whole-column computation, weighted or not, constant columns exactly 0."""
    from econ.panel import collinear as c

    rng = np.random.default_rng(3)
    n = 3 * c._BLOCK + 17
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), 1e-3 * rng.normal(size=n) + 5e6,
                         np.full(n, 3.0)])
    w = rng.uniform(0.5, 2.0, n)
    for weights in (None, w):
        sw = None if weights is None else np.sqrt(weights)
        whole = c._centred(X, weights)
        want = c._colscale(whole if sw is None else whole * sw[:, None])
        got = c._centred_norms(X, weights, sw)
        np.testing.assert_allclose(got, want, rtol=1e-11)
        assert got[3] == 0.0
        demeaned = X - X.mean(axis=0)
        demeaned[:, 1] *= 1e-7  # nearly absorbed: relative ratio 1e-7 < sqrt(tol)
        absorbed, kept = c.collinear_columns(demeaned, X, weights=weights)
        assert absorbed.tolist() == [False, True, False, True]
