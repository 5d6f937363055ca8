"""Claims as commands: the registry (``replication/claims.toml``), verdict rules, ``econ replicate`` (atomic
``results/<id>/`` folders with a ``manifest.json``), ``econ verify`` (stored results checked, re-run, compared) and the
paper builder (``econ paper``).

>>> from econ import claims
>>> reg = claims.load_registry()
>>> records = claims.run_claims(["D1", "D2"], out="results")
"""

from econ.claims.manifest import check_stored
from econ.claims.registry import Registry, RegistryError
from econ.claims.registry import load as load_registry
from econ.claims.runner import ClaimError, run_claims
from econ.claims.verdict import VERDICTS
from econ.claims.verify import verify

__all__ = ["load_registry", "Registry", "RegistryError", "ClaimError", "run_claims", "verify", "VERDICTS",
           "check_stored"]
