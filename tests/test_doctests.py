"""The Examples sections of the engine's public docstrings run (numpydoc examples that cannot rot)."""

import doctest
import importlib

import pytest

MODULES = ["econ._validate", "econ.io", "econ.panel.collinear", "econ.panel.formula", "econ.panel.delegate",
           "econ.panel.feols",
           "econ.panel.wildboot"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
