"""A staggered design whose outcome shocks follow a spatial autoregressive process on a given ``W``.

For power and coverage studies of spatially correlated designs: how much clustering by unit over-states precision
when neighbouring units share shocks, and what Conley standard errors (``vcov={"conley": {...}}``) recover.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import splu

from econ._validate import check_int, check_seed
from econ.errors import SpecificationError, WeightsError

__all__ = ["spatial_staggered"]

_Y = "log_income_ratio"


def spatial_staggered(n_units: int = 100, n_years: int = 8, *, W=None, coords: pd.DataFrame | None = None,
                      rho_space: float = 0.6, sigma_space: float = 0.02, first_year: int = 2010, n_cohorts: int = 2,
                      never_share: float = 0.5, effect: float = 0.03, shape: str = "constant", ramp_years: int = 3,
                      rho: float = 0.5, sigma: float = 0.01, seed: int = 0):
    """:func:`~econ.montecarlo.staggered` plus spatially correlated shocks ``u_t = (I - rho_space W)^{-1} e_t``.

    Without ``W`` the units sit on a square grid (spacing 0.1 degree from 30N, 110E; ``n_units`` must be a perfect
    square) with rook-like distance weights (12 km band), and cohorts are assigned by grid row -- treatment is
    spatially clustered, as in place-based programmes, so shared shocks do not average out between treated and
    comparison units.

    Parameters
    ----------
    n_units, n_years : int
        Panel size (``n_units`` = ``W.n`` when ``W`` is given).
    W : econ.spatial.Weights, optional
        Spatial weights on the units (row-standardised internally); its ids become the unit ids, in its order,
        and cohorts follow that order (units first in ``W`` are treated first).
    coords : DataFrame, optional
        ``lat`` and ``lon`` columns indexed by ``W``'s ids, added to the panel (for Conley standard errors). The
        default grid has them.
    rho_space : float in [0, 1)
        Spatial autocorrelation of the shocks.
    sigma_space : float
        Standard deviation of the innovations ``e_it`` (independent over units and years).
    first_year, n_cohorts, never_share, effect, shape, ramp_years, rho, sigma, seed :
        As in :func:`~econ.montecarlo.staggered` (``rho``/``sigma`` its AR(1) unit-level errors).

    Returns
    -------
    econ.simulate.SimulatedPanel
        The panel with columns ``lat``/``lon`` (when known) and the shocks added to ``log_income_ratio``; the truth
        is that of the underlying staggered design (the shocks have mean zero) plus ``rho_space``/``sigma_space``.

    Raises
    ------
    SpecificationError
        ``rho_space`` outside [0, 1), ``sigma_space`` negative, ``n_units`` not a square without ``W``, or any
        error of :func:`~econ.montecarlo.staggered`.
    WeightsError
        ``W`` not a :class:`econ.spatial.Weights`, or ``coords`` missing some of its ids.

    Examples
    --------
    >>> from econ.montecarlo import spatial_staggered
    >>> sim = spatial_staggered(n_units=49, n_years=6, seed=1)
    >>> sim.data[["unit", "lat", "lon"]].drop_duplicates().shape
    (49, 3)
    """
    from dataclasses import replace

    from econ.montecarlo.designs import staggered
    from econ.spatial import Weights

    if not (isinstance(rho_space, (int, float)) and 0 <= rho_space < 1):
        raise SpecificationError(f"rho_space must be in [0, 1), got {rho_space!r}")
    if not (isinstance(sigma_space, (int, float)) and sigma_space >= 0):
        raise SpecificationError(f"sigma_space must be a non-negative number, got {sigma_space!r}")
    seed = check_seed(seed)
    if W is None:
        n_units = check_int(n_units, "n_units", minimum=4)
        side = int(round(np.sqrt(n_units)))
        if side * side != n_units:
            raise SpecificationError(f"without W, n_units must be a perfect square (a grid), got {n_units}")
        row, col = np.divmod(np.arange(n_units), side)
        coords = pd.DataFrame({"lat": 30 + 0.1 * row, "lon": 110 + 0.1 * col}, index=np.arange(1, n_units + 1))
        W = Weights.from_distance(coords["lat"], coords["lon"], list(coords.index), cutoff_km=12.0, islands="keep")
    elif not isinstance(W, Weights):
        raise WeightsError(f"W must be econ.spatial.Weights, got {type(W).__name__}")
    ids = list(W.ids)
    sim = staggered(len(ids), n_years, first_year=first_year, n_cohorts=n_cohorts, never_share=never_share,
                    effect=effect, shape=shape, ramp_years=ramp_years, rho=rho, sigma=sigma, seed=seed)
    data = sim.data.copy()
    data["unit"] = data["unit"].map(dict(zip(range(1, len(ids) + 1), ids)))
    if coords is not None:
        missing = [u for u in ids if u not in coords.index]
        if missing:
            raise WeightsError(f"coords has no row for {len(missing)} unit(s) of W: {missing[:5]}")
        for c in ("lat", "lon"):
            data[c] = data["unit"].map(coords[c]).to_numpy(dtype=float)
    years = np.sort(data["year"].unique())
    rng = np.random.default_rng([seed, 22])
    e = rng.normal(scale=sigma_space, size=(len(ids), len(years)))
    A = (sparse.identity(len(ids), format="csc") - rho_space * W.row_standardize().matrix.tocsc()).tocsc()
    u = splu(A).solve(e)
    pos = pd.Index(ids).get_indexer(data["unit"])
    data[_Y] = data[_Y].to_numpy() + u[pos, np.searchsorted(years, data["year"].to_numpy())]
    truth = dict(sim.truth, rho_space=float(rho_space), sigma_space=float(sigma_space))
    return replace(sim, data=data, truth=truth)
