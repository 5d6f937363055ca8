"""What a Monte Carlo study is, as a hash: so a checkpoint is only resumed by the study that wrote it.

:func:`describe` turns a design or an estimator into a JSON-able description that changes whenever what it
computes can change:

* functions: their source (``inspect.getsource``; where there is none, the code object: bytecode, constants,
  names), default arguments, the values their closure captures (a wrapper's options live there), and the globals
  they read -- data values by value, functions and classes of the user's own modules recursively, library objects
  (numpy, pandas, econ...) by name;
* ``functools.partial``, bound methods, callable instances (class source and attributes), dataclasses
  (:class:`~econ.montecarlo.Estimator`, :class:`~econ.montecarlo.Design`) through their parts;
* data: scalars by ``repr``, containers item by item (dicts and sets in sorted order), arrays and pandas objects
  by a hash of their values.

Random generators count by their type only (their state moves with every draw). Anything else is hashed
through ``pickle`` or, failing that, its ``repr`` without memory addresses. Other state an estimator captures and
mutates (a call counter in its closure) is part of it: resuming after that state changed is refused, which errs on
the safe side.
"""

from __future__ import annotations

import dataclasses
import dis
import functools
import hashlib
import inspect
import json
import pickle
import re
import sys
import sysconfig
import types
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["describe", "digest", "study_parts"]

_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_LIB_PATHS = tuple({p for key in ("stdlib", "platstdlib", "purelib", "platlib")
                    if (p := sysconfig.get_paths().get(key))})


def digest(obj) -> str:
    """SHA-256 (16 hex digits) of the JSON of ``obj`` with sorted keys."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def study_parts(seed: int, level: float, designs, estimators: Mapping) -> dict[str, str]:
    """One hash per part of a study: ``seed``, ``level``, ``econ`` (version), ``design <name>`` and
    ``estimator <name>`` (names in order)."""
    from econ import __version__

    parts = {"seed": repr(int(seed)), "level": repr(float(level)), "econ": __version__,
             "designs": digest([d.name for d in designs]), "estimators": digest(list(estimators))}
    parts.update({f"design {d.name!r}": digest(describe(d)) for d in designs})
    parts.update({f"estimator {name!r}": digest(describe(est)) for name, est in estimators.items()})
    return parts


def describe(obj, _path: frozenset = frozenset()):
    """A JSON-able description of ``obj`` that changes when its code, options or captured data change."""
    if isinstance(obj, _SCALARS):
        return repr(obj)
    if isinstance(obj, np.generic):
        return f"{type(obj).__name__}:{obj!r}"
    if id(obj) in _path:
        return "<recursive>"
    path = _path | {id(obj)}
    if isinstance(obj, (types.ModuleType,)):
        return f"module:{obj.__name__}"
    if isinstance(obj, Mapping):
        items = [[describe(k, path), describe(v, path)] for k, v in obj.items()]
        return {"mapping": type(obj).__name__, "items": sorted(items, key=_key)}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__: [describe(v, path) for v in obj]}
    if isinstance(obj, (set, frozenset)):
        return {"set": sorted((describe(v, path) for v in obj), key=_key)}
    if isinstance(obj, np.ndarray):
        return _array(obj)
    if isinstance(obj, np.random.SeedSequence):
        return {"seed_sequence": repr(obj.entropy), "spawn_key": list(obj.spawn_key)}
    if isinstance(obj, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
        return f"rng:{type(obj).__name__}"  # its state moves with every draw: a stateful rng is not an option
    if isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
        return _pandas(obj)
    if isinstance(obj, functools.partial):
        return {"partial": describe(obj.func, path), "args": describe(obj.args, path),
                "keywords": describe(obj.keywords, path)}
    if isinstance(obj, types.MethodType):
        return {"method": describe(obj.__func__, path), "self": describe(obj.__self__, path)}
    if isinstance(obj, types.FunctionType):
        return _function(obj, path)
    if isinstance(obj, type):
        return _class(obj)
    if isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType, np.ufunc)):
        return f"builtin:{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', obj.__name__)}"
    if dataclasses.is_dataclass(obj) or hasattr(obj, "__dict__"):
        state = ({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)} if dataclasses.is_dataclass(obj)
                 else vars(obj))
        return {"object": _class(type(obj)), "state": describe(state, path)}
    return _opaque(obj)


def _key(item) -> str:
    return json.dumps(item, sort_keys=True, default=str)


def _array(a: np.ndarray):
    if a.dtype.hasobject:
        return {"array": [describe(v) for v in a.ravel().tolist()], "shape": list(a.shape)}
    return {"array": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(), "dtype": str(a.dtype),
            "shape": list(a.shape)}


def _pandas(obj):
    values = pd.util.hash_pandas_object(obj, index=not isinstance(obj, pd.Index)).to_numpy()
    out = {"pandas": type(obj).__name__, "hash": hashlib.sha256(values.tobytes()).hexdigest()}
    if isinstance(obj, pd.DataFrame):
        out.update(columns=[str(c) for c in obj.columns], dtypes=[str(t) for t in obj.dtypes])
    else:
        out.update(name=str(obj.name), dtype=str(obj.dtype))
    return out


def _source(obj) -> str | None:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return None


def _code(code: types.CodeType):
    """Bytecode, constants (nested code objects recursively) and names: the fallback when there is no source."""
    consts = [_code(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return {"bytecode": code.co_code.hex(), "consts": consts, "names": list(code.co_names),
            "varnames": list(code.co_varnames)}


def _global_names(code: types.CodeType) -> list[str]:
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names.update(_global_names(c))
    return sorted(n for n in names if isinstance(n, str))


def _is_library(module_name: str | None) -> bool:
    """True for econ, the standard library and installed packages; False for the user's own code."""
    if not module_name or module_name == "__main__":
        return False
    if module_name.split(".")[0] in ("econ", "builtins"):
        return True
    file = getattr(sys.modules.get(module_name), "__file__", None)
    return bool(file) and file.startswith(_LIB_PATHS)


def _function(fn: types.FunctionType, path: frozenset):
    code = fn.__code__
    cells = {}
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            cells[name] = describe(cell.cell_contents, path)
        except ValueError:  # an empty cell (a name assigned later in the enclosing scope)
            cells[name] = "<empty>"
    used = {}
    for name in _global_names(code):
        if name in fn.__globals__:
            used[name] = _global(fn.__globals__[name], path)
    source = _source(fn)
    return {"function": f"{fn.__module__}.{fn.__qualname__}",
            "source": source if source is not None else _code(code),
            "defaults": describe(fn.__defaults__, path), "kwdefaults": describe(fn.__kwdefaults__, path),
            "closure": cells, "globals": used}


def _global(value, path: frozenset):
    """A global a function reads: library code by name, the user's code and any data in full."""
    if isinstance(value, types.ModuleType):
        return f"module:{value.__name__}"
    if isinstance(value, (types.FunctionType, type)) and _is_library(getattr(value, "__module__", None)):
        return f"ref:{value.__module__}.{value.__qualname__}"
    if callable(value) and not isinstance(value, (types.FunctionType, type, functools.partial, types.MethodType)) \
            and not dataclasses.is_dataclass(value) and _is_library(type(value).__module__):
        return f"instance:{type(value).__module__}.{type(value).__qualname__}"  # e.g. a scipy distribution
    return describe(value, path)


def _class(cls: type):
    name = f"{cls.__module__}.{cls.__qualname__}"
    if _is_library(cls.__module__):
        return f"class:{name}"
    source = _source(cls)
    if source is None:
        source = {k: _code(v.__code__) for k, v in sorted(vars(cls).items()) if isinstance(v, types.FunctionType)}
    return {"class": name, "source": source}


def _opaque(obj):
    try:
        return {"pickle": type(obj).__qualname__, "hash": hashlib.sha256(pickle.dumps(obj, protocol=4)).hexdigest()}
    except Exception:  # noqa: BLE001 - anything unpicklable falls back to its repr
        return {"repr": type(obj).__qualname__, "text": re.sub(r" at 0x[0-9a-fA-F]+", "", repr(obj))}
