"""Documented defaults match the signatures (issue 24: att_gt's and placebo's ``n_draws`` said 0 / 1000 while the
signature default is None). Every ``name : type, default X`` line of a public function's docstring must name the
signature's default."""

import importlib
import inspect
import re

MODULES = ["econ", "econ.did", "econ.spatial", "econ.montecarlo", "econ.panel", "econ.datasets", "econ.plot",
           "econ.simulate", "econ.results"]
LINE = re.compile(r"^\s*(\w+) : [^\n]*?,\s*default[ :=]+(.+?)\s*$", re.M)
# documented by name rather than by value, on purpose
SYMBOLIC = {("china_cities_demo", "seed"): "DEMO_SEED", ("twfe_bias_panel", "years"): "2008-2019"}


def _forms(default) -> set[str]:
    return {repr(default), str(default), f'"{default}"', f"``{default!r}``", f"``{default}``", f'``"{default}"``'}


def test_documented_defaults_match_signatures():
    bad = []
    for module in MODULES:
        mod = importlib.import_module(module)
        for name in mod.__all__:
            func = getattr(mod, name)
            if not inspect.isfunction(func):
                continue
            params = inspect.signature(func).parameters
            for param, documented in LINE.findall(inspect.getdoc(func) or ""):
                if param not in params:
                    continue
                default = params[param].default
                text = documented.strip().rstrip(".")
                if SYMBOLIC.get((name, param)) == text:
                    continue
                if default is inspect.Parameter.empty or text not in _forms(default):
                    bad.append(f"{module}.{name}({param}=): documented {text!r}, signature {default!r}")
    assert not bad, "\n".join(bad)


def test_att_gt_and_placebo_document_none():
    from econ import did

    for func in (did.att_gt, did.placebo):
        assert inspect.signature(func).parameters["n_draws"].default is None
        assert "n_draws : int or None, default None" in inspect.getdoc(func)
