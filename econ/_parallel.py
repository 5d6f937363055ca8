"""Splitting many random draws into blocks that any backend computes identically.

Draws are cut into blocks of a fixed size; block ``k`` takes its randomness from
``numpy.random.SeedSequence(entropy, spawn_key=(k,))`` -- the ``k``-th child of ``SeedSequence(seed).spawn`` --
so the draws depend only on the seed and the block's position, never on which process computes the block.
``map_blocks`` runs a block function in this process (``backend="local"``) or on ``dask.distributed`` workers
(``backend="dask"``, the ``client`` given or a temporary ``LocalCluster``) and returns the blocks in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from econ._validate import check_choice, check_seed
from econ.errors import SpecificationError

__all__ = ["BLOCK", "root_entropy", "block_rng", "block_sizes", "map_blocks"]

BLOCK = 4096  # draws per block: fixed, so the draws do not depend on the backend or the number of workers
BACKENDS = ("local", "dask")


def root_entropy(seed) -> int:
    """The entropy of the root ``SeedSequence`` for ``seed`` (int, None = fresh, SeedSequence or Generator)."""
    seed = check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.entropy) if not isinstance(seed.entropy, (list, tuple)) else int(seed.generate_state(1)[0])
    return int(np.random.SeedSequence(seed).entropy)


def block_rng(entropy: int, k: int) -> np.random.Generator:
    """Generator of block ``k``: ``SeedSequence(entropy, spawn_key=(k,))``."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(k,)))


def block_sizes(n_draws: int, block: int = BLOCK) -> list[int]:
    """Sizes of the blocks that make up ``n_draws`` draws (all ``block`` but the last)."""
    n_blocks = math.ceil(n_draws / block)
    return [min(block, n_draws - k * block) for k in range(n_blocks)]


def map_blocks(fn: Callable, n_blocks: int, *args, backend: str = "local", client=None, per_task: int = 4):
    """``[fn(k, *args) for k in range(n_blocks)]``, in this process or on Dask workers (``per_task`` blocks a
    task); the result is the same list whatever runs it."""
    check_choice(backend, "backend", BACKENDS)
    if client is not None and backend != "dask":
        raise SpecificationError("client= is only used with backend='dask'")
    if backend == "local":
        return [fn(k, *args) for k in range(n_blocks)]
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SpecificationError("backend='dask' needs dask.distributed: pip install 'econ-placebased[dask]'") from None
    own, cluster = client is None, None
    if own:
        cluster = LocalCluster(threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    elif isinstance(client, str):
        client, own = Client(client), True
    try:
        shared = client.scatter(list(args), broadcast=True)
        chunks = [list(range(s, min(s + per_task, n_blocks))) for s in range(0, n_blocks, per_task)]
        futures = [client.submit(_run_chunk, fn, ks, *shared, pure=False, retries=3) for ks in chunks]
        return [out for fut in futures for out in fut.result()]
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _run_chunk(fn, ks, *args):
    return [fn(k, *args) for k in ks]
