"""The Examples of every econ module run as doctests (issue 12, item 2); econ.claims is covered by its own tests.

Modules already covered by ``test_doctests.py`` / ``test_did_doctests.py`` are run there, not here.
"""

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

import econ

matplotlib.use("Agg")

COVERED = {"econ._validate", "econ.io", "econ.panel.collinear", "econ.panel.formula", "econ.panel.delegate",
           "econ.panel.feols", "econ.panel.wildboot", "econ.did._design", "econ.did.classic.twfe", "econ.did.classic.event_study",
           "econ.did.classic.placebo", "econ.did.classic.classic", "econ.did.classic.heterogeneity", "econ.did.plots"}
EXCLUDED = {"econ.__main__"}  # importing it runs the command line
ALL = sorted(m.name for m in pkgutil.walk_packages(econ.__path__, "econ.")
             if not m.name.startswith("econ.claims") and m.name not in EXCLUDED)
MODULES = [m for m in ALL if m not in COVERED]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests_run(name):
    import matplotlib.pyplot as plt

    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    plt.close("all")
    assert result.failed == 0
