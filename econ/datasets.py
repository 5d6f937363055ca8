"""Bundled datasets: a registry, validated loaders and their provenance.

>>> from econ import datasets
>>> table = datasets.list()                # name, kind, description, rows, file
>>> prefs = datasets.load("china_prefectures")
>>> provenance = datasets.describe("china_prefectures")["provenance"]
>>> outlines = datasets.load_geojson("china_prefecture_outlines")

Every table is a tidy UTF-8 CSV in the package data directory (``econ.data``; the repository's ``data/``), with one
section per file in ``PROVENANCE.md``. ``load`` returns a fresh DataFrame on every call, checked against the
registry: exact column set and order, dtypes (administrative codes as 6-digit strings, cohorts as nullable
``Int64``, years as ``int64``), non-missing and unique keys; rows are sorted by the keys.

Constants: ``REGISTRY`` maps each dataset name to its :class:`Dataset` entry (columns, keys, file, provenance);
``OUTLINES`` maps each bundled GeoJSON outline name to its entry (read with :func:`load_geojson`); both are read
at import from ``registry.toml`` in the data directory (data, not code: validated when read, every problem an
:class:`~econ.errors.EconError` naming the entry);
``CHECKSUMS_FILE`` is the name (``"checksums.json"``) of the SHA-256 manifest beside the data files.
"""

from __future__ import annotations

import builtins
import contextlib
import csv
import hashlib
import importlib.resources
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from econ._docs import doc
from econ.errors import EconError

__all__ = ["Dataset", "REGISTRY", "OUTLINES", "list", "list_datasets", "load", "describe", "load_geojson",
           "data_path", "truth", "load_weights", "checksums", "check_files", "track_files", "CHECKSUMS_FILE",
           "compute_checksums", "read_checksums", "write_checksums"]

_CODE_RE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Dataset:
    """One bundled table: an entry of :data:`REGISTRY` (:func:`describe` returns its fields as a dict; :func:`load`
    returns the validated table as a DataFrame).

    ``columns`` maps each column to ``(dtype, description)`` with dtype one of "str", "int64", "Int64" (nullable;
    used for cohorts), "float64", "bool";

    Attributes
    ----------
    name, kind, description, file : str
        Registry name, ``"real"`` or ``"simulated"``, one-line description, CSV file name.
    keys : tuple of str
        Columns that identify a row.
    columns : dict
        Column -> ``(dtype, description)``.

    Examples
    --------
    >>> from econ import datasets
    >>> ds = datasets.REGISTRY["china_prefectures"]
    >>> ds.kind, ds.keys
    ('real', ('prefecture_code',))
    """

    name: str
    file: str
    kind: str  # "real" or "simulated"
    description: str
    keys: tuple[str, ...]
    columns: dict[str, tuple[str, str]] = field(hash=False, compare=False)


@dataclass(frozen=True)
class Outline:
    """One bundled GeoJSON FeatureCollection (outlines for maps)."""

    name: str
    file: str
    description: str
    code_property: str
    properties: dict[str, str] = field(hash=False, compare=False)


# ---------------------------------------------------------------------------------------------------------------
# file access
def _data_root():
    """The package data directory: ``econ.data`` when installed, else the repository's ``data/``."""
    try:
        root = importlib.resources.files("econ.data")
        if root.joinpath("PROVENANCE.md").is_file():
            return root
    except (ModuleNotFoundError, TypeError, ValueError):
        pass
    return Path(__file__).resolve().parents[1] / "data"


def data_path(file: str):
    """Traversable (or Path) of a bundled data file; it may not exist (the simulated panel before generation).

    Parameters
    ----------
    file : str
        File name inside the package data directory.

    Returns
    -------
    importlib.resources.abc.Traversable or pathlib.Path

    Examples
    --------
    >>> from econ import datasets
    >>> datasets.data_path("china_prefectures.csv").is_file()
    True
    """
    return _data_root().joinpath(file)


def _read_text(file: str) -> str:
    res = data_path(file)
    if not res.is_file():
        raise EconError(f"bundled data file '{file}' was not found in {_data_root()}")
    if not file.endswith(_HASHED_SUFFIXES):  # documentation (PROVENANCE.md) is not checksummed
        return res.read_text(encoding="utf-8")
    return _verified_bytes(file).decode("utf-8")


# ---------------------------------------------------------------------------------------------------------------
# the registry: data/registry.toml (shipped as econ.data), read and validated once at import
REGISTRY_FILE = "registry.toml"
_S, _N, _I, _F, _B = "str", "int64", "Int64", "float64", "bool"
_DTYPES = (_S, _N, _I, _F, _B)
_KINDS = ("real", "simulated")


def _registry_error(where: str, problem: str) -> EconError:
    return EconError(f"{REGISTRY_FILE}: {where}: {problem} (fix the registry file in the package data directory)")


def _text_field(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _registry_error(where, f"{key!r} must be a non-empty string, got {value!r}")
    return value


def _pairs(entry: dict, key: str, width: int, where: str) -> list:
    rows = entry.get(key)
    if not isinstance(rows, builtins.list) or not rows:  # (``list`` is this module's function)
        raise _registry_error(where, f"{key!r} must be a non-empty list of {width}-element lists")
    for row in rows:
        if not (isinstance(row, builtins.list) and len(row) == width and all(isinstance(v, str) for v in row)):
            raise _registry_error(where, f"every entry of {key!r} must be {width} strings, got {row!r}")
    names = [row[0] for row in rows]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise _registry_error(where, f"{key!r} repeats {dup}")
    return rows


def _dataset_entry(entry: dict, i: int) -> Dataset:
    where = f"datasets[{i}]"
    name = _text_field(entry, "name", where)
    where = f"dataset {name!r}"
    file = _text_field(entry, "file", where)
    kind = _text_field(entry, "kind", where)
    if kind not in _KINDS:
        raise _registry_error(where, f"kind must be one of {builtins.list(_KINDS)}, got {kind!r}")
    if not file.endswith(".csv"):
        raise _registry_error(where, f"file must be a CSV, got {file!r}")
    columns = {c: (t, d) for c, t, d in _pairs(entry, "columns", 3, where)}
    bad = {c: t for c, (t, _) in columns.items() if t not in _DTYPES}
    if bad:
        raise _registry_error(where, f"unknown dtype(s) {bad}; use one of {builtins.list(_DTYPES)}")
    keys = entry.get("keys")
    if not (isinstance(keys, builtins.list) and keys and all(isinstance(k, str) for k in keys)):
        raise _registry_error(where, f"keys must be a non-empty list of column names, got {keys!r}")
    unknown = [k for k in keys if k not in columns]
    if unknown:
        raise _registry_error(where, f"keys {unknown} are not columns")
    extra = sorted(set(entry) - {"name", "file", "kind", "description", "keys", "columns"})
    if extra:
        raise _registry_error(where, f"unknown field(s) {extra}")
    return Dataset(name, file, kind, _text_field(entry, "description", where), tuple(keys), columns)


def _outline_entry(entry: dict, i: int) -> Outline:
    where = f"outlines[{i}]"
    name = _text_field(entry, "name", where)
    where = f"outline {name!r}"
    file = _text_field(entry, "file", where)
    if not file.endswith(".geojson"):
        raise _registry_error(where, f"file must be a GeoJSON file, got {file!r}")
    props = dict(_pairs(entry, "properties", 2, where))
    code = _text_field(entry, "code_property", where)
    if code not in props:
        raise _registry_error(where, f"code_property {code!r} is not one of its properties {builtins.list(props)}")
    extra = sorted(set(entry) - {"name", "file", "description", "code_property", "properties"})
    if extra:
        raise _registry_error(where, f"unknown field(s) {extra}")
    return Outline(name, file, _text_field(entry, "description", where), code, props)


def _read_registry(text: str) -> tuple[dict[str, Dataset], dict[str, Outline]]:
    """Parse and validate the registry TOML: every field present and typed, keys among the columns, known dtypes
    and kinds, unique names across tables and outlines."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _registry_error("not valid TOML", str(err)) from None
    extra = sorted(set(raw) - {"datasets", "outlines"})
    if extra:
        raise _registry_error("top level", f"unknown section(s) {extra}")
    tables = [_dataset_entry(e, i) for i, e in enumerate(raw.get("datasets", []))]
    outlines = [_outline_entry(e, i) for i, e in enumerate(raw.get("outlines", []))]
    names = [t.name for t in tables] + [o.name for o in outlines]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise _registry_error("names", f"{dup} appear more than once")
    if not tables:
        raise _registry_error("datasets", "no dataset entries")
    return {t.name: t for t in tables}, {o.name: o for o in outlines}


def _load_registry():
    res = data_path(REGISTRY_FILE)
    if not res.is_file():
        raise EconError(f"the dataset registry '{REGISTRY_FILE}' was not found in {_data_root()}")
    return _read_registry(res.read_text(encoding="utf-8"))


REGISTRY, OUTLINES = _load_registry()


# ---------------------------------------------------------------------------------------------------------------
# integrity: every bundled data file has a recorded SHA-256 and row count (data/checksums.json, written by
# `python tools/hash_data.py`); a file that does not match is refused, naming it.
CHECKSUMS_FILE = "checksums.json"
_HASHED_SUFFIXES = (".csv", ".json", ".geojson")
_REFRESH = "python tools/hash_data.py"
_DOCS = {"unknown_name": """\
Raises
------
EconError
    Unknown name.""", "checksums_raises": """\
Raises
------
EconError
    The checksums file is not valid JSON."""}
_TRACKERS: list[dict] = []


def _rows(name: str, raw: bytes):
    """Data rows of a CSV (header excluded), features of a GeoJSON, None otherwise (or when unparseable)."""
    try:
        if name.endswith(".csv"):
            return max(sum(1 for _ in csv.reader(io.StringIO(raw.decode("utf-8")))) - 1, 0)
        if name.endswith(".geojson"):
            return len(json.loads(raw.decode("utf-8")).get("features", []))
    except (UnicodeDecodeError, ValueError, csv.Error, AttributeError):
        return None
    return None


def _entry(name: str, raw: bytes) -> dict:
    return {"sha256": hashlib.sha256(raw).hexdigest(), "rows": _rows(name, raw), "bytes": len(raw)}


def compute_checksums(folder) -> dict:
    """``{file: {"sha256", "rows", "bytes"}}`` for every data file (.csv, .json, .geojson) in ``folder``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Directory holding the data files.

    Returns
    -------
    dict
        File name -> ``{"sha256": hex digest, "rows": data rows (CSV) or features, "bytes": size}``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from econ import datasets
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("a\\n1\\n2\\n")
    >>> datasets.compute_checksums(d)["t.csv"]["rows"]
    2
    """
    folder = Path(folder)
    return {p.name: _entry(p.name, p.read_bytes()) for p in sorted(folder.iterdir())
            if p.is_file() and p.name.endswith(_HASHED_SUFFIXES) and p.name != CHECKSUMS_FILE}


def write_checksums(folder, entries: dict) -> Path:
    """Write ``entries`` (sorted by file name) to ``folder/checksums.json``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Directory to write into.
    entries : dict
        As returned by :func:`compute_checksums`.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from econ import datasets
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> datasets.write_checksums(d, {}).name
    'checksums.json'
    """
    path = Path(folder) / CHECKSUMS_FILE
    path.write_text(json.dumps(dict(sorted(entries.items())), indent=1) + "\n", encoding="utf-8")
    return path


@doc(**_DOCS)
def read_checksums(folder=None) -> dict:
    """The recorded checksums (``{}`` when the checksums file is absent).

    Parameters
    ----------
    folder : str or pathlib.Path, optional
        Directory of the checksums file; default the package data directory.

    Returns
    -------
    dict
        File name -> ``{"sha256", "rows", "bytes"}``.

    {checksums_raises}

    Examples
    --------
    >>> import tempfile
    >>> from econ import datasets
    >>> datasets.read_checksums(tempfile.mkdtemp())
    {}
    """
    res = Path(folder) / CHECKSUMS_FILE if folder is not None else data_path(CHECKSUMS_FILE)
    if not res.is_file():
        return {}
    try:
        return json.loads(res.read_text(encoding="utf-8"))
    except ValueError as err:
        raise EconError(f"the bundled data checksums ({CHECKSUMS_FILE}) are not valid JSON: {err}; "
                        f"regenerate them with `{_REFRESH}`") from None


def checksums() -> dict:
    """The recorded SHA-256, row count and size of every bundled data file (``data/checksums.json``).

    Examples
    --------
    >>> from econ import datasets
    >>> datasets.checksums()["china_prefectures.csv"]["rows"]
    337

    Parameters
    ----------
    None

    Returns
    -------
    dict
        :func:`read_checksums` of the package data directory.

    Raises
    ------
    EconError
        As :func:`read_checksums`.
    """
    return read_checksums()


def _problem(file: str, raw: bytes, recorded: dict | None) -> str | None:
    if recorded is None:
        return (f"bundled data file '{file}' has no recorded checksum in {CHECKSUMS_FILE}; if it was added "
                f"deliberately, record it with `{_REFRESH}`")
    if hashlib.sha256(raw).hexdigest() == recorded.get("sha256"):
        return None
    found = _entry(file, raw)  # row count only for the message
    rows = recorded.get("rows")
    what = "truncated" if rows is not None and found["rows"] is not None and found["rows"] < rows else "altered"
    rows_text = (f"{found['rows']} data rows where {rows} are recorded, " if rows is not None else "")
    return (f"bundled data file '{file}' is {what}: {rows_text}{found['bytes']} bytes where {recorded.get('bytes')} "
            f"are recorded, SHA-256 {found['sha256'][:16]}... instead of {str(recorded.get('sha256'))[:16]}...; "
            f"restore it from the repository (git checkout data/{file}) or, if the change is deliberate, "
            f"run `{_REFRESH}`")


def _verified_bytes(file: str) -> bytes:
    """The file's bytes, after checking them against the recorded checksum (EconError naming the file)."""
    raw = data_path(file).read_bytes()
    problem = _problem(file, raw, read_checksums().get(file))
    if problem:
        raise EconError(problem)
    for tracker in _TRACKERS:
        tracker[file] = hashlib.sha256(raw).hexdigest()
    return raw


@contextlib.contextmanager
def track_files():
    """Record every bundled data file read inside the block: yields a dict ``{file: sha256}`` filled as files are
    read (used by ``econ replicate`` to write each result's manifest).

    Used as a context manager (``with datasets.track_files() as seen: ...``).

    Parameters
    ----------
    None

    Returns
    -------
    contextlib.AbstractContextManager
        Yields the dict ``{file: sha256}`` of the files read inside the block.

    Examples
    --------
    >>> from econ import datasets
    >>> with datasets.track_files() as seen:
    ...     _ = datasets.load("china_provinces")
    >>> "china_provinces.csv" in seen
    True
    """
    seen: dict[str, str] = {}
    _TRACKERS.append(seen)
    try:
        yield seen
    finally:
        _TRACKERS.remove(seen)


@doc(**_DOCS)
def check_files(files=None) -> dict:
    """Check bundled data files (default: every data file present and every recorded one) against the recorded
    checksums; return ``{file: problem}`` (empty when all match).

    Parameters
    ----------
    files : list of str, optional
        File names to check; default every data file present and every recorded one.

    Returns
    -------
    dict
        File name -> description of the problem (missing, checksum or row-count mismatch); empty when all match.

    {checksums_raises}

    Examples
    --------
    >>> from econ import datasets
    >>> datasets.check_files(["china_prefectures.csv"])
    {}
    """
    recorded = read_checksums()
    root = _data_root()
    if files is None:
        present = {p.name for p in root.iterdir() if p.is_file() and p.name.endswith(_HASHED_SUFFIXES)
                   and p.name != CHECKSUMS_FILE}
        files = sorted(present | set(recorded))
    problems = {}
    for f in files:
        res = data_path(f)
        if not res.is_file():
            problems[f] = f"bundled data file '{f}' is recorded in {CHECKSUMS_FILE} but missing"
            continue
        problem = _problem(f, res.read_bytes(), recorded.get(f))
        if problem:
            problems[f] = problem
    return problems


def _lookup(name: str) -> Dataset:
    if name in REGISTRY:
        return REGISTRY[name]
    if name in OUTLINES:
        raise EconError(f"'{name}' is a GeoJSON outline, not a table; use econ.datasets.load_geojson('{name}')")
    valid = ", ".join(sorted(REGISTRY))
    raise EconError(f"unknown dataset {name!r}; valid names: {valid}")


# ---------------------------------------------------------------------------------------------------------------
# reading and validation
def _read_csv(ds: Dataset) -> pd.DataFrame:
    res = data_path(ds.file)
    if not res.is_file():
        hint = " Generate it with econ.simulate (see that module)." if ds.kind == "simulated" else ""
        raise EconError(f"dataset '{ds.name}': file '{ds.file}' is missing from {_data_root()}.{hint}")
    text = _verified_bytes(ds.file).decode("utf-8")
    dtypes = {c: ("boolean" if t == _B else t) for c, (t, _) in ds.columns.items()}
    try:
        df = pd.read_csv(io.StringIO(text), dtype=dtypes, keep_default_na=False, na_values=[""])
    except (ValueError, TypeError) as err:
        raise EconError(f"dataset '{ds.name}': cannot parse '{ds.file}' with the registry dtypes: {err}") from err
    for c, (t, _) in ds.columns.items():
        if t == _B and c in df and not df[c].isna().any():
            df[c] = df[c].astype(bool)
    return df


def _is_str_column(s: pd.Series) -> bool:
    if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
        return False
    return bool(s.dropna().map(lambda v: isinstance(v, str)).all())


def _check_dtype(s: pd.Series, dtype: str) -> bool:
    if dtype == _S:
        return _is_str_column(s)
    if dtype == _I:
        return str(s.dtype) == "Int64"
    if dtype == _N:
        return s.dtype == "int64"
    if dtype == _F:
        return s.dtype == "float64"
    return s.dtype == bool


def _validate(df: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    where = f"dataset '{ds.name}' ({ds.file})"
    expected = [*ds.columns]
    got = [*df.columns]
    if got != expected:
        missing = [c for c in expected if c not in got]
        extra = [c for c in got if c not in expected]
        raise EconError(f"{where}: columns do not match the registry; missing {missing}, unexpected {extra}, "
                        f"order {got}")
    bad = [f"{c} (expected {t}, got {df[c].dtype})" for c, (t, _) in ds.columns.items()
           if not _check_dtype(df[c], t)]
    if bad:
        raise EconError(f"{where}: wrong dtypes: {', '.join(bad)}")
    missing_keys = [k for k in ds.keys if k not in df.columns]
    if missing_keys:
        raise EconError(f"{where}: key column(s) {missing_keys} are missing")
    keys = [*ds.keys]  # (the name `list` is this module's function)
    null_rows = df.index[df[keys].isna().any(axis=1)]
    if len(null_rows):
        raise EconError(f"{where}: missing key values in rows {null_rows[:10].tolist()}")
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        shown = df.loc[dup, keys].head(10).to_dict("records")
        raise EconError(f"{where}: duplicate keys {keys}: {shown}")
    for c in df.columns:
        if _is_code_column(c) and _is_str_column(df[c]):
            bad = df[c].dropna()
            bad = bad[~bad.map(lambda v: bool(_CODE_RE.match(v)))]
            if len(bad):
                raise EconError(f"{where}: column '{c}' must hold 6-digit codes; bad values in rows "
                                f"{bad.index[:10].tolist()}: {bad.head(10).tolist()}")
    return df.sort_values(keys, ignore_index=True, kind="stable")


def _is_code_column(col: str) -> bool:
    return col.endswith("_code") or col.endswith("_code_i") or col.endswith("_code_j") or col == "geo_adcode"


# ---------------------------------------------------------------------------------------------------------------
# public API
def load(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a fresh, validated DataFrame sorted by its keys.

    Codes are 6-character strings (leading zeros kept), cohorts nullable ``Int64``, years ``int64``. Raises
    ``EconError`` for an unknown name (listing the valid ones), a missing file, or a file that does not match
    the registry schema.

    Parameters
    ----------
    name : str
        A name of :func:`list_datasets` (e.g. ``"china_prefectures"``, ``"mpdta"``, ``"china_cities_demo"``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    EconError
        A name that is not a string, an unknown name (the message lists the valid ones), an outline name, a missing
        file or a file that does not match the registry schema or its recorded checksum.

    Examples
    --------
    >>> from econ import datasets
    >>> prefs = datasets.load("china_prefectures")
    >>> bool(prefs["prefecture_code"].str.len().eq(6).all())
    True
    """
    if not isinstance(name, str):
        several = (" (load several with [datasets.load(n) for n in names])"
                   if type(name).__name__ in ("list", "tuple") else "")  # (this module's `list` shadows the builtin)
        raise EconError(f"name must be one dataset name (a str) such as 'mpdta', got {type(name).__name__} "
                        f"{name!r}{several}; see econ.datasets.list()")
    ds = _lookup(name)
    return _validate(_read_csv(ds), ds)


def list_datasets() -> pd.DataFrame:
    """All registered tables: name, kind ("real" / "simulated"), description, rows (<NA> if the file is absent),
    file.

    ``econ.datasets.list`` is the same function (R's ``data()`` listing).

    Parameters
    ----------
    None

    Returns
    -------
    pandas.DataFrame
        Columns ``name, kind, description, rows, file``.

    Raises
    ------
    EconError
        A bundled file that is present but does not match its recorded checksum, or cannot be parsed with the
        registry dtypes (the message names the file and how to restore it).

    Examples
    --------
    >>> from econ import datasets
    >>> table = datasets.list_datasets()
    >>> table.columns.tolist()
    ['name', 'kind', 'description', 'rows', 'file']
    """
    rows = []
    for ds in REGISTRY.values():
        n = pd.NA
        if data_path(ds.file).is_file():
            n = len(_read_csv(ds))
        rows.append({"name": ds.name, "kind": ds.kind, "description": ds.description, "rows": n, "file": ds.file})
    out = pd.DataFrame(rows, columns=["name", "kind", "description", "rows", "file"])
    out["rows"] = out["rows"].astype("Int64")
    return out


list = list_datasets  # noqa: A001 - `econ.datasets.list()` mirrors R's data() listing


def _provenance_section(file: str) -> str:
    text = _read_text("PROVENANCE.md")
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("## ") and f"`{file}`" in ln), None)
    if start is None:
        return ""
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "# "))), len(lines))
    return "\n".join(lines[start:end]).strip()


@doc(**_DOCS)
def describe(name: str) -> dict[str, Any]:
    """Metadata of a dataset or outline: name, kind, description, file, rows, keys, columns (name ->
    description) and the file's section of PROVENANCE.md.

    Parameters
    ----------
    name : str
        A dataset (see :func:`list_datasets`) or outline name.

    Returns
    -------
    dict
        Keys ``name, kind, description, file, rows, keys, columns, provenance``.

    {unknown_name}

    Examples
    --------
    >>> from econ import datasets
    >>> info = datasets.describe("china_provinces")
    >>> info["kind"], "provenance" in info
    ('real', True)
    """
    if name in OUTLINES:
        o = OUTLINES[name]
        gj = load_geojson(name)
        return {"name": o.name, "kind": "real", "description": o.description, "file": o.file,
                "rows": len(gj["features"]), "keys": (o.code_property,), "columns": dict(o.properties),
                "provenance": _provenance_section(o.file)}
    ds = _lookup(name)
    rows = len(_read_csv(ds)) if data_path(ds.file).is_file() else None
    columns = {c: d for c, (_, d) in ds.columns.items()}
    return {"name": ds.name, "kind": ds.kind, "description": ds.description, "file": ds.file, "rows": rows,
            "keys": ds.keys, "columns": columns, "provenance": _provenance_section(ds.file)}


def truth(name: str) -> dict:
    """The stored true parameters of a simulated dataset, as a dict.

    Event-time keys (``att_by_event_time``) are integers and cohort keys (``cohort_sizes``) integers, so
    ``truth("china_cities_demo")["att_by_event_time"][0]`` is the true effect in the designation year.

    Examples
    --------
    >>> from econ import datasets
    >>> t = datasets.truth("china_cities_demo")
    >>> sorted(t["att_by_event_time"])[:3]
    [0, 1, 2]

    Parameters
    ----------
    name : str
        A simulated dataset (``kind == "simulated"``).

    Returns
    -------
    dict
        The true parameters stored beside the data (``<name>_truth.json``).

    Raises
    ------
    EconError
        Unknown name, or a real dataset (which has no known truth).
    """
    ds = _lookup(name)
    if ds.kind != "simulated":
        raise EconError(f"dataset '{name}' is real data: it has no known truth")
    out = json.loads(_read_text(ds.file.replace(".csv", "_truth.json")))
    for key in ("att_by_event_time", "cohort_sizes"):
        if isinstance(out.get(key), dict):
            out[key] = {int(k): v for k, v in out[key].items()}
    return out


_CONTIGUITY = {  # edge-list dataset -> (units dataset, id column); edges are <id>_i, <id>_j
    "china_prefecture_contiguity": ("china_prefectures", "prefecture_code"),
    "china_province_contiguity": ("china_provinces", "province_code"),
}


@doc(**_DOCS)
def load_weights(name: str = "china_prefecture_contiguity"):
    """Binary contiguity weights (``econ.spatial.Weights``) from a bundled edge list.

    The unit order is that of the units table (``china_prefectures`` or ``china_provinces``, sorted by code), and
    units without a neighbour (e.g. Hainan's island prefectures) are kept as zero rows.

    Parameters
    ----------
    name : {"china_prefecture_contiguity", "china_province_contiguity"}

    Returns
    -------
    econ.spatial.Weights
        Binary (not row-standardised) contiguity weights.

    {unknown_name}

    Examples
    --------
    >>> from econ import datasets
    >>> W = datasets.load_weights("china_province_contiguity")
    >>> W.n == len(datasets.load("china_provinces"))
    True
    """
    from econ.spatial import Weights

    if name not in _CONTIGUITY:
        raise EconError(f"no contiguity weights named {name!r}; valid names: {', '.join(sorted(_CONTIGUITY))}")
    units, code = _CONTIGUITY[name]
    ids = load(units)[code].tolist()
    return Weights.from_edges(load(name), f"{code}_i", f"{code}_j", ids=ids, islands="keep")


def load_geojson(name: str) -> dict:
    """Parsed GeoJSON FeatureCollection of a bundled outline (a fresh dict on every call).

    Names: ``china_prefecture_outlines`` (feature property ``prefecture_code``) and ``china_province_outlines``
    (``province_code``); the code is null for features outside the reference units.

    Parameters
    ----------
    name : str
        Outline name (a trailing ``.geojson`` is accepted).

    Returns
    -------
    dict
        The GeoJSON FeatureCollection.

    Raises
    ------
    EconError
        Unknown name, a table name, or a file that is not a non-empty FeatureCollection with the code property.

    Examples
    --------
    >>> from econ import datasets
    >>> gj = datasets.load_geojson("china_province_outlines")
    >>> gj["type"]
    'FeatureCollection'
    """
    key = name[: -len(".geojson")] if name.endswith(".geojson") else name
    if key not in OUTLINES:
        if key in REGISTRY:
            raise EconError(f"'{key}' is a table, not an outline; use econ.datasets.load('{key}')")
        raise EconError(f"unknown outline {name!r}; valid names: {', '.join(sorted(OUTLINES))}")
    o = OUTLINES[key]
    gj = json.loads(_read_text(o.file))
    if gj.get("type") != "FeatureCollection" or not gj.get("features"):
        raise EconError(f"outline '{key}' ({o.file}) is not a non-empty GeoJSON FeatureCollection")
    missing = [i for i, f in enumerate(gj["features"]) if o.code_property not in f.get("properties", {})]
    if missing:
        raise EconError(f"outline '{key}': features {missing[:10]} lack the property '{o.code_property}'")
    return gj
