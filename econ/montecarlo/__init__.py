"""Monte Carlo studies, power analysis and large simulation runs, on this machine or on a Dask cluster.

Typical flow::

    from econ import montecarlo as mc
    designs = mc.grid(mc.staggered, n_units=[60, 120], effect=[0.0, 0.03])
    res = mc.run(designs, {"twfe": mc.estimators.twfe(), "cs": mc.estimators.att_gt()}, n_reps=200, seed=1,
                 backend="dask")                       # or backend="local" (default); client= an existing cluster
    res.metrics()                                      # bias, RMSE, coverage, rejection rate, Monte Carlo s.e.
    pw = mc.power(mc.staggered, mc.estimators.placebo(), [0.0, 0.02, 0.04], n_reps=200, n_units=[60, 120])
    pw.mde()

Results are identical for any backend, number of workers or batch size (replication seeds are spawned from the
root seed by position); ``dask[distributed]`` is optional (``pip install 'econ-placebased[dask]'``).
"""

from econ.montecarlo import estimators
from econ.montecarlo.designs import Design, design, grid, replication_seeds, staggered
from econ.montecarlo.estimators import Estimator
from econ.montecarlo.power import PowerResult, power
from econ.montecarlo.results import MonteCarloResult
from econ.montecarlo.runner import run
from econ.montecarlo.spatial import spatial_staggered

__all__ = ["run", "power", "design", "grid", "staggered", "Design", "Estimator", "estimators",
           "MonteCarloResult", "PowerResult", "replication_seeds", "spatial_staggered"]
