"""The Examples sections of the DiD modules' public docstrings run (numpydoc examples that cannot rot)."""

import doctest
import importlib

import matplotlib
import pytest

matplotlib.use("Agg")

MODULES = ["econ.did.design", "econ.did.classic.twfe", "econ.did.classic.event_study", "econ.did.classic.placebo", "econ.did.classic.classic",
           "econ.did.classic.heterogeneity", "econ.did.plots"]


@pytest.mark.parametrize("name", MODULES)
def test_did_docstring_examples_run(name):
    import matplotlib.pyplot as plt

    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    plt.close("all")
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
