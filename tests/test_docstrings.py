"""Every public name (each ``__all__`` of the API modules) has a numpydoc docstring (issue 12, item 2).

Functions need Parameters, Returns, Raises and Examples sections (Raises may be waived in NO_RAISES, with the
reason); classes an Examples section; the statistical methods in METHODS also Notes (the formula, with the paper's
equation) and References. Submodules listed in an ``__all__`` need a module docstring. Module-level constants are
documented in their module's docstring (CONSTANTS). PENDING lists names not yet documented: the test fails when a
name outside it lacks a section, and when a name in it has all its sections (so the list only shrinks).
"""

import importlib
import inspect
import types

import pytest

MODULES = ["econ", "econ.did", "econ.spatial", "econ.montecarlo", "econ.panel", "econ.datasets", "econ.plot",
           "econ.results", "econ.simulate", "econ.io", "econ.tables", "econ.errors", "econ.measures", "econ.index", "econ.survey"]

# constants: documented in the module docstring instead (inspect.getdoc would return their type's docstring)
CONSTANTS = {"econ.spatial.CLUSTER_LABELS", "econ.datasets.REGISTRY", "econ.datasets.OUTLINES",
             "econ.datasets.CHECKSUMS_FILE", "econ.simulate.DEMO_SEED", "econ.survey.LONELY_PSU"}

# statistical methods: their docstrings also give the formula (Notes) and the papers (References)
METHODS = {
    "econ.feols", "econ.panel.feols", "econ.panel.random_effects", "econ.panel.panel_iv", "econ.panel.hausman",
    "econ.did.twfe", "econ.did.event_study", "econ.did.placebo", "econ.did.did_2x2", "econ.did.ddd",
    "econ.did.psm_did", "econ.did.subgroups", "econ.did.channels", "econ.did.att_gt", "econ.did.bacon",
    "econ.did.sun_abraham", "econ.did.imputation", "econ.did.compare", "econ.did.honest", "econ.did.spatial_did",
    "econ.spatial.moran", "econ.spatial.geary", "econ.spatial.join_counts", "econ.spatial.local_moran",
    "econ.spatial.fit", "econ.spatial.lm_tests", "econ.spatial.sdm_tests", "econ.spatial.LogDet",
    "econ.spatial.ImpactsResult", "econ.montecarlo.power", "econ.results.wald", "econ.simulate.draw_panel",
    "econ.simulate.twfe_bias_panel", "econ.simulate.true_att", "econ.did.sdid", "econ.did.synth",
    "econ.panel.threshold", "econ.panel.mediation", "econ.measures.theil_gap", "econ.measures.theil",
    "econ.measures.gini", "econ.index.entropy_index", "econ.index.pca_index", "econ.did.cont_did",
    "econ.did.did_multiplegt", "econ.survey.stratified_meat",
}

# functions that raise nothing of their own (pure formatting or lookups of validated state): no Raises section
NO_RAISES = {
    "econ.spatial.haversine_km",  # a vectorised numpy formula: non-finite input gives NaN, nothing is validated
    "econ.panel.interact",  # integer arithmetic on factorize() codes, which feols validates before calling it
    "econ.datasets.data_path",  # a path lookup; the file need not exist (loaders raise when it is missing)
    "econ.datasets.track_files",  # a context manager recording reads; the loaders inside it raise, not it
    "econ.datasets.compute_checksums",  # maintenance helper of tools/hash_data.py: OSError propagates as is
    "econ.datasets.write_checksums",  # maintenance helper of tools/hash_data.py: OSError propagates as is
    "econ.results.stars",  # pure formatting: None or a non-finite p-value gives no stars
    "econ.results.figure",  # returns matplotlib's (fig, ax); matplotlib validates its own arguments
}

# not yet documented (to be emptied)
PENDING = set()


def _public(module):
    if hasattr(module, "__all__"):
        return list(module.__all__)
    # econ.errors has no __all__: its public classes
    return [n for n, o in vars(module).items() if not n.startswith("_") and inspect.isclass(o)
            and o.__module__ == module.__name__]


def _names():
    for m in MODULES:
        module = importlib.import_module(m)
        for n in _public(module):
            yield f"{m}.{n}", getattr(module, n)


def _missing(qualname, obj):
    doc = inspect.getdoc(obj) or ""
    if isinstance(obj, types.ModuleType):
        return [] if doc.strip() else ["module docstring"]
    need = ["Examples"] if inspect.isclass(obj) else ["Parameters", "Returns", "Raises", "Examples"]
    if qualname in NO_RAISES:
        need.remove("Raises")
    if qualname in METHODS:
        need += ["Notes", "References"]
    return [s for s in need if f"{s}\n---" not in doc]


NAMES = list(_names())


@pytest.mark.parametrize("qualname,obj", NAMES, ids=[q for q, _ in NAMES])
def test_public_name_documented(qualname, obj):
    if qualname in CONSTANTS:
        return
    missing = _missing(qualname, obj)
    if qualname in PENDING:
        assert missing, f"{qualname} is now documented: remove it from PENDING"
    else:
        assert not missing, f"{qualname} lacks docstring sections {missing}"


def test_exemption_lists_name_real_public_names():
    known = {q for q, _ in NAMES}
    assert CONSTANTS <= known
    assert PENDING <= known
    assert METHODS <= known
    assert NO_RAISES <= known


def test_constants_described_in_module_docstring():
    for qual in CONSTANTS:
        mod, name = qual.rsplit(".", 1)
        assert name in (importlib.import_module(mod).__doc__ or ""), f"{qual} not described in {mod}'s docstring"


# ------------------------------------------------------------------------------------------ methods/properties
# Every public method and property that econ defines on a public class has a docstring; the shared result
# interface (INTERFACE) also has Parameters, Returns and Examples sections. Names are "<defining class>.<name>".
INTERFACE = {"Result.tidy", "Result.summary", "Result.plot", "Result.confint", "Result.wald_test",
             "ATTgtResult.aggregate", "FeolsResult.wildboot", "SpatialResult.impacts",
             "EventStudyResult.pretrend_test", "EventStudyResult.sup_t_critical"}

# not yet documented (to be emptied)
PENDING_METHODS = set()


def _members():
    out = {}
    for _, cls in NAMES:
        if not inspect.isclass(cls) or issubclass(cls, BaseException):
            continue
        for name in dir(cls):
            if name.startswith("_"):
                continue
            for owner in cls.__mro__:  # the class that defines it
                if name in vars(owner):
                    break
            raw = vars(owner)[name]
            func = raw.fget if isinstance(raw, property) else getattr(raw, "__func__", raw)
            if not inspect.isfunction(func) or not (getattr(func, "__module__", "") or "").startswith("econ"):
                continue
            out[f"{owner.__name__}.{name}"] = (raw, func)
    return out


MEMBERS = _members()


def _member_missing(qual, raw, func):
    doc = inspect.getdoc(func) or ""
    if not doc.strip():
        return ["docstring"]
    if qual in INTERFACE:
        return [s for s in ("Parameters", "Returns", "Examples") if f"{s}\n---" not in doc]
    return []


@pytest.mark.parametrize("qual", sorted(MEMBERS))
def test_public_method_documented(qual):
    missing = _member_missing(qual, *MEMBERS[qual])
    if qual in PENDING_METHODS:
        assert missing, f"{qual} is now documented: remove it from PENDING_METHODS"
    else:
        assert not missing, f"{qual} lacks {missing}"


def test_method_lists_name_real_members():
    assert INTERFACE <= set(MEMBERS)
    assert PENDING_METHODS <= set(MEMBERS)
