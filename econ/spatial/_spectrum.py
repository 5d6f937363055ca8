"""Eigenvalue range of spatial weights (:meth:`econ.spatial.Weights.eigenvalue_range`): all eigenvalues of the
dense matrix, or the two extreme ones by ARPACK, on the symmetric matrix similar to ``W`` when there is one.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

def _similarity_scale(m: sparse.csr_matrix):
    """Positive ``c`` with ``c_i w_ij = c_j w_ji`` on every link (``c = 1`` at each component's first unit), or None.

    ``m`` has a symmetric sparsity pattern. ``c`` is propagated along a breadth-first spanning forest
    (``c_j = c_i w_ij / w_ji``) and then checked on every link.
    """
    n = m.shape[0]
    _, labels = csgraph.connected_components(m, directed=False)
    roots = np.unique(labels, return_index=True)[1]
    link = sparse.csr_matrix((np.ones(len(roots)), (np.zeros(len(roots), dtype=np.int64), roots)), shape=(1, n))
    aug = sparse.vstack([sparse.hstack([m, sparse.csr_matrix((n, 1))]), sparse.hstack([link, sparse.csr_matrix((1, 1))])])
    order, pred = csgraph.breadth_first_order(aug.tocsr(), n, directed=False, return_predecessors=True)
    nodes = order[1:]
    parents = pred[nodes]
    ratio = np.ones(len(nodes))
    inner = parents != n
    mt = m.T.tocsr()
    ratio[inner] = (np.asarray(m[parents[inner], nodes[inner]]).ravel()
                    / np.asarray(mt[parents[inner], nodes[inner]]).ravel())
    c = np.ones(n + 1)
    for node, parent, r in zip(nodes.tolist(), parents.tolist(), ratio.tolist()):
        c[node] = c[parent] * r
    c = c[:n]
    a = sparse.diags(c) @ m
    if abs(a - a.T).max() > 1e-10 * abs(a).max():
        return None
    return c


def _exact_range(w) -> tuple[float, float]:
    ev = w.eigenvalues()
    if np.iscomplexobj(ev):
        ev = ev.real[np.abs(ev.imag) <= 1e-10 * max(1.0, np.abs(ev).max())]
    return float(ev.min()), float(ev.max())


def _sparse_range(w) -> tuple[float, float]:
    from scipy.sparse import linalg as sla

    sym = w._symmetric_similar()
    if sym is not None:
        hi = sla.eigsh(sym, k=1, which="LA", return_eigenvectors=False, tol=1e-10)[0]
        lo = sla.eigsh(sym, k=1, which="SA", return_eigenvectors=False, tol=1e-10)[0]
        return float(lo), float(hi)
    hi = sla.eigs(w.matrix, k=1, which="LR", return_eigenvectors=False, tol=1e-10)[0]
    lo = sla.eigs(w.matrix, k=1, which="SR", return_eigenvectors=False, tol=1e-10)[0]
    return float(lo.real), float(hi.real)
