"""Bundled datasets: schemas, documented row counts, and facts that must not drift silently."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from econ import datasets
from econ.errors import EconError

REAL = [n for n, d in datasets.REGISTRY.items() if d.kind == "real"]

# row counts as documented in data/PROVENANCE.md (a change must be made in both places, deliberately)
ROWS = {
    "broadband_china_entities": 117,
    "broadband_china_crosswalk": 119,
    "china_prefectures": 337,
    "china_prefecture_contiguity": 895,
    "china_provinces": 31,
    "china_province_contiguity": 68,
    "china_national_income": 18,
    "china_province_income": 405,
    "china_province_gdp_per_capita": 66,
    "china_province_population_fragments": 9,
    "income_source_disagreements": 2,
    "mpdta": 2500,
    "china_province_gdp": 589,
    "california_prop99": 1209,
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: datasets.load(name) for name in REAL}


def test_every_real_dataset_is_registered_with_a_documented_count():
    assert sorted(REAL) == sorted(ROWS)


@pytest.mark.parametrize("name", REAL)
def test_real_dataset_loads_with_schema_and_documented_rows(name, tables):
    ds = datasets.REGISTRY[name]
    df = tables[name]
    assert [*df.columns] == [*ds.columns]
    assert len(df) == ROWS[name]
    assert not df.duplicated([*ds.keys]).any()
    assert df[[*ds.keys]].equals(df[[*ds.keys]].sort_values([*ds.keys], ignore_index=True))
    # the PROVENANCE section states the same shape
    section = datasets.describe(name)["provenance"]
    m = re.search(r"(\d+) rows × (\d+) columns", section)
    assert m, f"no 'N rows × M columns' line in the PROVENANCE section of {ds.file}"
    assert (int(m.group(1)), int(m.group(2))) == df.shape


def test_load_returns_fresh_copies():
    a = datasets.load("china_provinces")
    a.loc[0, "name_en"] = "changed"
    a["extra"] = 1
    b = datasets.load("china_provinces")
    assert b.loc[0, "name_en"] == "Beijing" and "extra" not in b


def test_codes_are_six_character_strings(tables):
    p = tables["china_prefectures"]
    assert p.prefecture_code.map(len).eq(6).all() and p.prefecture_code.str.fullmatch(r"\d{6}").all()
    assert {"110000", "120000", "310000", "500000"} <= set(p.prefecture_code)
    d = tables["income_source_disagreements"]
    assert "000000" in set(d.region_code)  # national code keeps its leading zeros


def test_broadband_entities_117_and_39_per_cohort(tables):
    e = tables["broadband_china_entities"]
    assert len(e) == 117 and e.entity_id.is_unique
    assert e.cohort_year.value_counts().to_dict() == {2014: 39, 2015: 39, 2016: 39}
    assert str(e.cohort_year.dtype) == "Int64"
    assert (e.groupby("cohort_year").list_order.apply(lambda s: sorted(s) == [*range(1, 40)])).all()
    assert set(e.loc[~e.whole_unit, "name_zh"]) == {"昆山市", "永城市", "阿拉尔市", "重庆市江津区", "重庆市荣昌区",
                                                    "九龙坡区", "北碚区"}


def test_crosswalk_agrees_with_entities_and_prefectures(tables):
    e, cw, p = tables["broadband_china_entities"], tables["broadband_china_crosswalk"], tables["china_prefectures"]
    assert set(cw.entity_id) == set(e.entity_id)
    expanded = e.set_index("entity_id").prefecture_codes.str.split(";").explode()
    assert sorted(zip(expanded.index, expanded)) == sorted(zip(cw.entity_id, cw.prefecture_code))
    outside = cw[~cw.prefecture_code.isin(p.prefecture_code)]
    assert outside.entity_name_zh.tolist() == ["阿拉尔市"]
    assert (cw.in_prefecture_reference == cw.prefecture_code.isin(p.prefecture_code)).all()


def test_prefecture_treatment_cohorts(tables):
    p = tables["china_prefectures"]
    assert str(p.bbc_cohort.dtype) == "Int64" and str(p.bbc_cohort_any.dtype) == "Int64"
    assert p.bbc_cohort.value_counts().to_dict() == {2014: 39, 2015: 36, 2016: 37}
    assert p.bbc_cohort_any.value_counts().to_dict() == {2014: 39, 2015: 38, 2016: 36}
    both = p.dropna(subset=["bbc_cohort"])
    assert (both.bbc_cohort_any <= both.bbc_cohort).all()
    assert p.loc[p.bbc_partial, "name_zh"].tolist() == ["商丘市", "重庆市"]
    cq = p.set_index("prefecture_code").loc["500000"]
    assert pd.isna(cq.bbc_cohort) and cq.bbc_cohort_any == 2015
    # cohorts re-derived from the crosswalk
    cw = tables["broadband_china_crosswalk"]
    whole = cw[cw.whole_prefecture_designated].groupby("prefecture_code").cohort_year.min()
    assert p.set_index("prefecture_code").bbc_cohort.dropna().astype(int).to_dict() == whole.astype(int).to_dict()


def test_prefectures_geography(tables):
    p = tables["china_prefectures"]
    assert p[["centroid_lon", "centroid_lat", "area_km2"]].notna().all().all()
    assert p.loc[p.lat.isna(), "name_zh"].tolist() == ["儋州市"]
    pts = p.dropna(subset=["lat"])
    assert pts.lat.between(15, 54).all() and pts.lon.between(73, 136).all()
    # city point and polygon centroid within ~3 degrees (catches swapped lat/lon or mismatched codes)
    q = pts[pts.prefecture_code != "460300"]  # 三沙: seat on the Paracels, centroid in the South China Sea
    assert ((q.lat - q.centroid_lat).abs() < 3).all() and ((q.lon - q.centroid_lon).abs() < 4).all()
    assert p.set_index("prefecture_code").loc[["110000", "120000", "310000"], "geo_adcode"].tolist() == [
        "110100", "120100", "310100"]


def test_regions_cover_31_provinces_11_8_12(tables):
    prov = tables["china_provinces"]
    assert len(prov) == 31 and prov.province_code.is_unique
    assert prov.region.value_counts().to_dict() == {"East": 11, "Central": 8, "West": 12}
    assert prov.region4.value_counts().to_dict() == {"East": 10, "Central": 6, "West": 12, "Northeast": 3}
    by_code = prov.set_index("province_code")
    assert by_code.loc[["150000", "450000"], "region"].tolist() == ["West", "West"]  # Inner Mongolia, Guangxi
    assert by_code.loc[["210000", "220000", "230000"], "region4"].eq("Northeast").all()
    p = tables["china_prefectures"]
    assert (p.region == p.province_code.map(by_code.region)).all()
    assert set(p.province_code) == set(prov.province_code)
    assert prov.capital_code.isin(p.prefecture_code).all()


def _check_edges(edges: pd.DataFrame, i: str, j: str, units: set[str]) -> None:
    assert edges[i].isin(units).all() and edges[j].isin(units).all()
    assert (edges[i] < edges[j]).all()  # no self-loops, canonical order
    pairs = set(zip(edges[i], edges[j]))
    assert len(pairs) == len(edges)  # each pair once
    assert not any((b, a) in pairs for a, b in pairs)  # and never in reverse


def test_prefecture_contiguity_edges(tables):
    p, c = tables["china_prefectures"], tables["china_prefecture_contiguity"]
    _check_edges(c, "prefecture_code_i", "prefecture_code_j", set(p.prefecture_code))
    prov = p.set_index("prefecture_code").province_code
    assert (c.cross_province == (c.prefecture_code_i.map(prov) != c.prefecture_code_j.map(prov))).all()
    linked = set(c.prefecture_code_i) | set(c.prefecture_code_j)
    isolated = sorted(set(p.prefecture_code) - linked)
    assert isolated == ["460100", "460200", "460300", "460400"]  # Hainan, as documented
    known = {("110000", "120000"), ("110000", "130600"), ("310000", "320500"), ("440300", "441900")}
    assert known <= set(zip(c.prefecture_code_i, c.prefecture_code_j))


def test_province_contiguity_edges(tables):
    prov, c = tables["china_provinces"], tables["china_province_contiguity"]
    _check_edges(c, "province_code_i", "province_code_j", set(prov.province_code))
    pairs = set(zip(c.province_code_i, c.province_code_j))
    assert ("440000", "460000") not in pairs  # Guangdong-Hainan: maritime only
    assert set(c.loc[~c.in_adjoin_list].apply(lambda r: (r.province_code_i, r.province_code_j), axis=1)) == {
        ("430000", "450000"), ("540000", "650000")}
    linked = set(c.province_code_i) | set(c.province_code_j)
    assert set(prov.province_code) - linked == {"460000"}


def test_national_income_2022_and_concepts(tables):
    n = tables["china_national_income"].set_index("year")
    assert n.loc[2022, "urban_income"] == 49283 and n.loc[2022, "rural_income"] == 20133
    assert n.loc[2022, "rural_income_concept"] == "disposable_income"
    assert round(n.loc[2022, "urban_rural_ratio_computed"], 2) == 2.45
    assert n.loc[2021, ["urban_income", "rural_income"]].tolist() == [47412, 18931]
    rural = n.dropna(subset=["rural_income"])
    assert (rural.rural_income_concept == rural.index.map(lambda y: "net_income" if y <= 2013
                                                          else "disposable_income")).all()
    assert n.rural_income_concept[n.rural_income.isna()].isna().all()
    computed = (n.urban_income / n.rural_income).round(4)
    assert computed.dropna().equals(n.urban_rural_ratio_computed.dropna())
    rep = n.dropna(subset=["urban_rural_ratio_reported"])
    assert ((rep.urban_rural_ratio_reported - rep.urban_rural_ratio_computed).abs() < 0.01).all()
    has_value = n[["urban_income", "rural_income", "total_income"]].notna()
    for var, src in [("urban_income", "urban_source"), ("rural_income", "rural_source"),
                     ("total_income", "total_source")]:
        assert (n[src].notna() == has_value[var]).all(), f"{var} without a source (or a source without a value)"


def test_province_income_panel(tables):
    pi, nat = tables["china_province_income"], tables["china_national_income"].set_index("year")
    assert "000000" not in set(pi.province_code)
    full = pi[pi.year.between(2005, 2012)].groupby("year").urban_income.count()
    assert full.eq(31).all() and [*full.index] == [*range(2005, 2013)]
    rural = pi.dropna(subset=["rural_income"])
    assert (rural.rural_income_concept == rural.year.map(lambda y: "net_income" if y <= 2013
                                                         else "disposable_income")).all()
    for var, src in [("urban_income", "urban_source"), ("rural_income", "rural_source"),
                     ("total_income", "total_source")]:
        assert (pi[src].notna() == pi[var].notna()).all()
    assert pi[["urban_income", "rural_income", "total_income"]].notna().any(axis=1).all()
    # ordering facts that hold for every province-year with both values
    both = pi.dropna(subset=["urban_income", "rural_income"])
    assert (both.urban_income > both.rural_income).all()
    # Zhejiang 2010: two yearbooks agree
    zj = pi.set_index(["province_code", "year"]).loc[("330000", 2010)]
    assert zj.urban_income == 27359 and zj.rural_income == 11303
    # the unresolved Guangdong 2019 disagreement stays blank
    assert pi[(pi.province_code == "440000") & (pi.year == 2019)].total_income.isna().all()
    # urban income of provinces brackets the national value in 2010
    y2010 = pi[pi.year == 2010].urban_income
    assert y2010.min() < nat.loc[2010, "urban_income"] < y2010.max()


def test_disagreements_are_recorded_not_chosen_silently(tables):
    d = tables["income_source_disagreements"]
    assert set(zip(d.region_code, d.year, d.variable)) == {("000000", 2020, "urban_income"),
                                                          ("440000", 2019, "total_income")}
    assert ((d.value_a - d.value_b).abs() - d.abs_diff).abs().lt(1e-6).all()
    gd = d[d.region_code == "440000"].iloc[0]
    assert "unresolved" in gd.resolution


def test_gdp_and_population_fragments(tables):
    g = tables["china_province_gdp_per_capita"]
    assert g.year.value_counts().to_dict() == {2012: 21, 2013: 21, 2014: 13, 2023: 11}
    assert g[g.year.isin([2012, 2013])].gdp_per_capita_usd_nominal.isna().all()
    assert g[g.year.isin([2014, 2023])].gdp_per_capita_cny.isna().all()
    pop = tables["china_province_population_fragments"]
    assert set(pop.variable) == {"resident_population_10k", "urbanization_rate_pct"}
    assert pop[pop.variable == "urbanization_rate_pct"].value.between(0, 100).all()


def test_outlines_match_reference_units(tables):
    pref = datasets.load_geojson("china_prefecture_outlines")
    codes = [f["properties"]["prefecture_code"] for f in pref["features"]]
    assert len(pref["features"]) == 370
    assert sorted(c for c in codes if c is not None) == sorted(tables["china_prefectures"].prefecture_code)
    prov = datasets.load_geojson("china_province_outlines.geojson")
    pcodes = {f["properties"]["province_code"] for f in prov["features"]} - {None}
    assert pcodes == set(tables["china_provinces"].province_code)
    pref["features"].clear()  # a fresh dict each call
    assert len(datasets.load_geojson("china_prefecture_outlines")["features"]) == 370


def test_list_and_describe():
    lst = datasets.list()
    assert [*lst.columns] == ["name", "kind", "description", "rows", "file"]
    assert set(lst.name) == set(datasets.REGISTRY)
    demo = lst.set_index("name").loc["china_cities_demo"]
    assert demo.kind == "simulated" and demo.file == "china_cities_demo.csv"
    assert datasets.REGISTRY["china_cities_demo"].keys == ("prefecture_code", "year")
    real = lst[lst.kind == "real"].set_index("name").rows.astype(int).to_dict()
    assert real == ROWS
    for name in [*REAL, *datasets.OUTLINES]:
        info = datasets.describe(name)
        assert info["provenance"].startswith("## `" + info["file"] + "`"), name
        assert info["rows"] > 0 and info["columns"]
    info = datasets.describe("china_prefectures")
    assert set(info) >= {"name", "kind", "description", "file", "rows", "columns", "provenance"}
    assert "bbc_cohort" in info["columns"] and "GCJ-02" in info["provenance"]
    assert "SIMULATED" in datasets.describe("china_cities_demo")["provenance"]


def test_unknown_names_raise_econ_error_listing_valid_names():
    with pytest.raises(EconError, match="valid names: .*china_prefectures"):
        datasets.load("china_prefecture")
    with pytest.raises(EconError, match="load_geojson"):
        datasets.load("china_prefecture_outlines")
    with pytest.raises(EconError, match="valid names"):
        datasets.describe("nope")
    with pytest.raises(EconError, match="china_province_outlines"):
        datasets.load_geojson("nope")


@pytest.mark.parametrize("corrupt, message", [
    (lambda t: t.replace("\n110000,", "\n11000,", 1), "6-digit codes"),  # lost a digit
    (lambda t: t + t.splitlines()[1] + "\n", "duplicate keys"),
    (lambda t: t.replace("province_code,name_zh", "province_code,name", 1), "columns do not match"),
    (lambda t: t.replace(",39.90403,", ",north,", 1), "cannot parse"),
    (lambda t: t.replace("\n110000,北京市,Beijing,East", "\n,北京市,Beijing,East", 1), "missing key values"),
])
def test_validation_catches_corrupted_files(tmp_path, monkeypatch, corrupt, message):
    src = Path(str(datasets.data_path("china_provinces.csv")))
    (tmp_path / "china_provinces.csv").write_text(corrupt(src.read_text(encoding="utf-8")), encoding="utf-8")
    (tmp_path / "PROVENANCE.md").write_text("", encoding="utf-8")
    # re-hashed deliberately, so the schema checks (not the checksum) must catch the corruption
    datasets.write_checksums(tmp_path, datasets.compute_checksums(tmp_path))
    monkeypatch.setattr(datasets, "_data_root", lambda: tmp_path)
    with pytest.raises(EconError, match=message):
        datasets.load("china_provinces")


def test_simulated_demo_panel_is_shipped_and_valid():
    assert datasets.data_path("china_cities_demo.csv").is_file(), "china_cities_demo.csv is part of the package"
    df = datasets.load("china_cities_demo")
    assert not df.duplicated(["prefecture_code", "year"]).any()
    assert df.prefecture_code.str.fullmatch(r"\d{6}").all()
    assert set(df.prefecture_code) <= set(datasets.load("china_prefectures").prefecture_code)


def test_pyproject_ships_data_as_econ_data():
    # the loaders find files through importlib.resources.files("econ.data"); the wheel must carry every suffix
    cfg = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert cfg["package-dir"]["econ.data"] == "data"
    assert "econ.data" in cfg["packages"]
    assert {"*.csv", "*.json", "*.geojson", "*.md", "*.toml"} <= set(cfg["package-data"]["econ.data"])
    suffixes = {p.suffix for p in (Path(__file__).parents[1] / "data").iterdir() if p.is_file()}
    assert suffixes <= {".csv", ".json", ".geojson", ".md", ".toml", ".py"}


def test_registry_is_data_read_from_the_package():
    """The registry is data/registry.toml (issue 17, item 5), parsed into the same Dataset/Outline entries."""
    text = datasets.data_path(datasets.REGISTRY_FILE).read_text(encoding="utf-8")
    tables, outlines = datasets._read_registry(text)
    assert tables == datasets.REGISTRY and outlines == datasets.OUTLINES
    assert [d.columns for d in tables.values()] == [d.columns for d in datasets.REGISTRY.values()]
    mpdta = datasets.REGISTRY["mpdta"]
    assert mpdta.keys == ("countyreal", "year") and list(mpdta.columns)[4] == "first.treat"
    assert mpdta.columns["first.treat"][0] == "int64"
    assert datasets.OUTLINES["china_province_outlines"].code_property == "province_code"


_ENTRY = """[[datasets]]
name = "t"
file = "t.csv"
kind = "real"
description = "d"
keys = ["a"]
columns = [["a", "str", "x"], ["b", "int64", "y"]]
"""


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('"int64"', '"integer"'), "dataset 't': unknown dtype"),
    (lambda t: t.replace('keys = ["a"]', 'keys = ["c"]'), r"dataset 't': keys \['c'\] are not columns"),
    (lambda t: t.replace('"real"', '"made up"'), "kind must be one of"),
    (lambda t: t + t, r"\['t'\] appear more than once"),
    (lambda t: t.replace('file = "t.csv"\n', ""), "dataset 't': 'file' must be a non-empty string"),
    (lambda t: t.replace('["b", "int64", "y"]', '["b", "int64"]'), "must be 3 strings"),
    (lambda t: t.replace("columns = [", "columns = [[\"a\", \"str\", \"again\"], "), "repeats"),
    (lambda t: t + "colour = 1\n", "unknown field"),
    (lambda t: t.replace("[[datasets]]", "[[datasets"), "not valid TOML"),
])
def test_registry_validation_names_the_entry(edit, message):
    assert datasets._read_registry(_ENTRY)[0]["t"].columns["b"] == ("int64", "y")
    with pytest.raises(EconError, match=message):
        datasets._read_registry(edit(_ENTRY))




def test_load_weights_follows_the_units_table():
    w = datasets.load_weights("china_prefecture_contiguity")
    pref = datasets.load("china_prefectures")
    assert list(w.ids) == pref["prefecture_code"].tolist()
    assert w.matrix.nnz == 2 * len(datasets.load("china_prefecture_contiguity"))
    assert sorted(w.islands) == ["460100", "460200", "460300", "460400"]  # Haikou, Sanya, Sansha, Danzhou
    prov = datasets.load_weights("china_province_contiguity")
    assert prov.n == 31 and prov.islands == ["460000"]
    with pytest.raises(EconError, match="no contiguity weights named 'nope'"):
        datasets.load_weights("nope")
