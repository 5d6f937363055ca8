"""The shared docstring fragments (econ._docs): every ``{name}`` line is filled at import, everywhere.

A placeholder left in a docstring would reach help(), Sphinx and the docstring checks as literal text, so the
whole package is scanned: functions, classes, and the methods, classmethods, staticmethods and properties that
econ's classes define.
"""

import importlib
import inspect
import pkgutil
import re

import pytest

import econ
from econ._docs import FRAGMENTS, doc, fill

PLACEHOLDER = re.compile(r"^\s*\{\w+\}\s*$", re.M)


def _documented():
    for info in pkgutil.walk_packages(econ.__path__, "econ."):
        if info.name == "econ.__main__":  # importing it runs the command line
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != info.name:
                continue
            yield f"{info.name}.{name}", obj
            if inspect.isclass(obj):
                for attr, raw in vars(obj).items():
                    target = getattr(raw, "__func__", None) or getattr(raw, "fget", None) or raw
                    yield f"{info.name}.{name}.{attr}", target


def test_no_placeholder_left_in_any_docstring():
    left = [q for q, obj in _documented() if isinstance(getattr(obj, "__doc__", None), str)
            and PLACEHOLDER.search(obj.__doc__)]
    assert not left, f"unfilled docstring fragments in {left}"


def test_fill_indents_the_fragment_and_leaves_other_braces_alone():
    text = 'Plot.\n\n    Parameters\n    ----------\n    {ax}\n    kind : {"a", "b"}\n        A set, not a fragment.\n'
    out = fill(text)
    assert out.splitlines()[4:7] == FRAGMENTS["ax"].splitlines() + ['kind : {"a", "b"}']
    with pytest.raises(KeyError, match="nope"):
        fill("Doc.\n\n    {nope}\n")


def test_doc_fills_classmethods_and_staticmethods():
    class K:
        @doc(extra="x : int\n    A number.")
        @classmethod
        def make(cls, x):
            """Make.

            Parameters
            ----------
            {extra}
            """

        @doc()
        @staticmethod
        def draw(ax=None):
            """Draw.

            Parameters
            ----------
            {ax}
            """

    assert inspect.getdoc(K.make).endswith("x : int\n    A number.")
    assert "Draw on this axes" in inspect.getdoc(K.draw)
