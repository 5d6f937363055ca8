"""The demeaning engine against a dense least-squares projection on the dummy matrix, for every solver path."""

import numpy as np
import pandas as pd
import pytest

import econ.panel.demean as dm
from econ.errors import SpecificationError
from econ.panel.demean import Absorber, demean, factorize, interact


def dense_residual(x, fe, w=None):
    """x minus its (weighted) least-squares projection on all fixed-effect dummies."""
    fe = np.asarray(fe).reshape(len(x), -1)
    D = np.column_stack([np.eye(fe[:, j].max() + 1)[fe[:, j]] for j in range(fe.shape[1])])
    sw = np.ones(len(x)) if w is None else np.sqrt(w)
    coef = np.linalg.lstsq(D * sw[:, None], x * sw.reshape(-1, *([1] * (x.ndim - 1))), rcond=None)[0]
    return x - D @ coef


def random_fe(rng, n, sizes):
    return np.column_stack([rng.integers(0, g, n) for g in sizes])


@pytest.mark.parametrize("sizes", [(25,), (30, 7), (40, 9, 4), (12, 12, 6, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_dense_projection(sizes, weighted):
    rng = np.random.default_rng(len(sizes) + weighted)
    n = 300
    fe = random_fe(rng, n, sizes)
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    x = rng.normal(size=(n, 3))
    a = Absorber(fe, weights=w)
    np.testing.assert_allclose(a.demean(x), dense_residual(x, fe, w), atol=1e-11)
    assert a.method == ("one-way" if len(sizes) == 1 else "direct")


def test_rank_is_exact_for_the_direct_solver():
    rng = np.random.default_rng(0)
    fe = random_fe(rng, 400, (30, 8, 5))
    D = np.column_stack([np.eye(fe[:, j].max() + 1)[fe[:, j]] for j in range(3)])
    assert Absorber(fe).rank == np.linalg.matrix_rank(D)


def test_balanced_two_way_closed_form():
    unit, year = np.repeat(np.arange(15), 6), np.tile(np.arange(6), 15)
    fe = np.column_stack([unit, year])
    x = np.random.default_rng(1).normal(size=(90, 2))
    a = Absorber(fe)
    assert a.balanced_twoway and a.method == "balanced"
    np.testing.assert_allclose(a.demean(x), dense_residual(x, fe), atol=1e-12)
    # an unbalanced panel does not take the closed form
    assert not Absorber(fe[:-1]).balanced_twoway


def test_conjugate_gradient_paths(monkeypatch):
    rng = np.random.default_rng(2)
    n = 1500
    fe = random_fe(rng, n, (200, 40, 30))
    x = rng.normal(size=(n, 2))
    monkeypatch.setattr(dm, "DENSE_MAX", 10)  # force the iterative solver with an explicit sparse S
    a = Absorber(fe, tol=1e-12)
    assert a.method == "cg" and a._S is not None
    np.testing.assert_allclose(a.demean(x), dense_residual(x, fe), atol=1e-9)
    monkeypatch.setattr(dm, "_SPARSE_FILL_MAX", 0)  # and matrix-free, weighted
    w = rng.uniform(0.5, 2.0, n)
    b = Absorber(fe, weights=w, tol=1e-12)
    assert b.method == "cg" and b._S is None
    np.testing.assert_allclose(b.demean(x), dense_residual(x, fe, w), atol=1e-9)


def test_cg_warns_when_maxiter_is_too_small(monkeypatch):
    rng = np.random.default_rng(3)
    fe = random_fe(rng, 800, (100, 60, 50))
    monkeypatch.setattr(dm, "DENSE_MAX", 10)
    with pytest.warns(dm.DemeanWarning, match="maxiter"):
        Absorber(fe, maxiter=1).demean(rng.normal(size=800))


def test_shapes_reuse_and_no_mutation():
    rng = np.random.default_rng(4)
    fe = [rng.integers(0, 10, 100), rng.integers(0, 4, 100)]  # list of code vectors
    x = rng.normal(size=100)
    before = x.copy()
    a = Absorber(fe)
    out1 = a.demean(x)
    assert out1.shape == (100,)
    np.testing.assert_array_equal(x, before)
    many = a.demean(np.column_stack([x, 2 * x]))
    np.testing.assert_allclose(many[:, 1], 2 * out1, atol=1e-12)
    # against the dense projection on both sets of dummies (not against demean(), which wraps Absorber)
    D = np.column_stack([np.eye(10)[fe[0]], np.eye(4)[fe[1]]])
    np.testing.assert_allclose(out1, x - D @ np.linalg.lstsq(D, x, rcond=None)[0], atol=1e-10)
    np.testing.assert_allclose(demean(x, np.column_stack(fe)), out1, atol=1e-12)


def test_unused_codes_are_ignored():
    rng = np.random.default_rng(5)
    fe = rng.integers(0, 5, (60, 2)) * 3  # codes 0, 3, 6, 9, 12: gaps
    x = rng.normal(size=60)
    a = Absorber(fe)
    assert a.n_levels == [5, 5]
    np.testing.assert_allclose(a.demean(x), dense_residual(x, fe), atol=1e-12)


def test_factorize_and_interact():
    df = pd.DataFrame({"prov": ["a", "b", "a", None], "year": [1, 1, 2, 2]})
    codes = factorize(df)
    assert codes.shape == (4, 2) and codes[3, 0] == -1
    inter = interact(codes[:, 0], codes[:, 1])
    assert inter[3] == -1 and len(set(inter[:3])) == 3
    assert factorize(df["year"]).shape == (4, 1)


def test_bad_input():
    with pytest.raises(SpecificationError, match="non-negative"):
        Absorber(np.array([0, 1, -1]))
    with pytest.raises(SpecificationError, match="integers"):
        Absorber(np.array([0.5, 1.0]))
    a = Absorber(np.array([0, 0, 1, 1]))
    with pytest.raises(SpecificationError, match="missing or infinite"):
        a.demean(np.array([1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(SpecificationError, match="shape"):
        a.demean(np.ones(3))
    with pytest.raises(SpecificationError, match="positive"):
        Absorber(np.array([0, 0, 1, 1]), weights=[1, 0, 1, 1])


def test_disconnected_and_redundant_effects():
    """Two disconnected blocks of levels, and an effect (year) nested in another (province^year): the reduced
    system is singular in several directions; the projection and the exact rank must still be right."""
    rng = np.random.default_rng(6)
    n = 500
    block = rng.integers(0, 2, n)
    unit = block * 40 + rng.integers(0, 40, n)
    firm = block * 10 + rng.integers(0, 10, n)
    year = rng.integers(0, 6, n)
    prov = rng.integers(0, 4, n)
    py = interact(prov, year)
    for fe in (np.column_stack([unit, firm]), np.column_stack([unit, firm, year]), np.column_stack([unit, py, year])):
        D = np.column_stack([np.eye(fe[:, j].max() + 1)[fe[:, j]] for j in range(fe.shape[1])])
        D = D[:, D.sum(axis=0) > 0]
        x = rng.normal(size=(n, 2))
        a = Absorber(fe)
        assert a.rank == np.linalg.matrix_rank(D)
        np.testing.assert_allclose(a.demean(x), dense_residual(x, fe), atol=1e-10)
