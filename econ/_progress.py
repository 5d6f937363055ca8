"""The one progress bar of econ: tqdm's notebook widget when ipywidgets is installed, plain text otherwise.

``tqdm.auto`` warns ("IProgress not found") in a Jupyter kernel without ipywidgets; econ's tutorials and users'
notebooks should not see that, so the widget is used only when it can be drawn.
"""

from __future__ import annotations

import importlib.util


def _tqdm_class():
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


def tqdm(*args, **kwargs):
    """``tqdm.tqdm(*args, **kwargs)`` with the widget only where it works (see the module docstring)."""
    return _tqdm_class()(*args, **kwargs)
