"""Build the tidy datasets shipped in econ's data/ directory from the shared raw extracts.

Usage:  python build_data.py SRC_DIR OUT_DIR
SRC_DIR is the shared raw-data folder (with geo/ and provinces/), OUT_DIR the repo's data/ directory.
Every row-count change is printed and recorded in data/PROVENANCE.md by hand.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/work/main/data")

# --------------------------------------------------------------------------------------------------------------
# Regions. Three belts (东部/中部/西部): the 1986 Seventh Five-Year Plan division with Chongqing (1997) and
# Inner Mongolia + Guangxi (2000 Western Development) in the West: 11 / 8 / 12 provinces.
# Four regions: NBS "东西中部和东北地区划分方法" (stats.gov.cn, 2011-06-13): East 10, Central 6, West 12, Northeast 3.
EAST = ["110000", "120000", "130000", "210000", "310000", "320000", "330000", "350000", "370000", "440000", "460000"]
CENTRAL = ["140000", "220000", "230000", "340000", "360000", "410000", "420000", "430000"]
WEST = ["150000", "450000", "500000", "510000", "520000", "530000", "540000", "610000", "620000", "630000",
        "640000", "650000"]
NORTHEAST = ["210000", "220000", "230000"]
REGION = {**{c: "East" for c in EAST}, **{c: "Central" for c in CENTRAL}, **{c: "West" for c in WEST}}
REGION4 = {c: ("Northeast" if c in NORTHEAST else REGION[c]) for c in REGION}

# geo files code the three municipalities by their first prefecture-level code
GEO_TO_REF = {"110100": "110000", "120100": "120000", "310100": "310000"}

# national-income source keys of ../national_urban_rural_income.csv, expanded to their addresses
NAT_KEYS = {
    "SD2013": "http://tjj.shandong.gov.cn/tjnj/nj2013/html/C113.htm",
    "GNEWS": "github:Royguo0317/txt/content/gnews/18/README.md",
    "CITY2019": "http://0199976.com/web/html/tongjishuju/renkoutongji/2020/0713/268099.html",
    "LNYLFW": "http://bbs.lnylfw.com/forum.php?action=printable&mod=viewthread&tid=93238",
    "NBS2021": "http://m.dil5h.cn/data/142/2022-01-17/6888700725887832871.html",
    "NBS2022": "http://m.zjgdzjg.cn/data/142/2023-01-28/7024917987534901560.html;"
               "https://m.huaon.com/channel/chinadata/864677.html;https://029car.cn/redian/202301/375198.html",
}
FRAG_KEYS = {
    "ZJ2013": "ZJ2013",  # Zhejiang Statistical Yearbook 2013 table 5-1 (address not fully recorded upstream)
    "FJ2021": "http://tjj.fujian.gov.cn/tongjinianjian/dz2021/cn-en/html/0610.htm",
    "NMG2023": "https://nmgqq.com.cn/shuzishizhi/nianjian/neimengguniajian/2023juan/shehuishenghuo/2024-11-20/429984.html",
}
PEOPLE_2014 = "http://finance.people.com.cn/n/2014/0121/c70846-24182159.html"
CE_2014 = "http://district.ce.cn/newarea/roll/201402/24/t20140224_2363042.shtml"
COMMUNIQUE_2013 = "http://www.quanben5.com/n/qingzhuxinzhongguochengli65zhounianzhishijingsai500ti/3581.html"


def read(path: str, **kw) -> pd.DataFrame:
    return pd.read_csv(SRC / path, dtype=str, keep_default_na=False, na_values=[""], **kw)


def write(df: pd.DataFrame, name: str) -> None:
    df.to_csv(OUT / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n", float_format="%.10g")
    print(f"{name}: {len(df)} rows x {df.shape[1]} cols")


def join_sources(*parts) -> str | float:
    seen: list[str] = []
    for p in parts:
        if isinstance(p, str):
            for s in p.split(";"):
                s = s.strip()
                if s and s not in seen:
                    seen.append(s)
    return ";".join(seen) if seen else np.nan


# --------------------------------------------------------------------------------------------------------------
prov_ref = read("province_reference.csv")
PROV_EN = dict(zip(prov_ref.province_code, prov_ref.province_en))
PROV_ZH = dict(zip(prov_ref.province_code, prov_ref.province_zh))
pref_ref = read("prefecture_city_reference.csv")
PREF_EN = dict(zip(pref_ref.prefecture_code, pref_ref.prefecture_name_en))
PREF_EN["460400"] = "Danzhou"  # missing upstream; pinyin of 儋州 (documented)


def build_bbc() -> tuple[pd.DataFrame, pd.DataFrame]:
    ent = read("broadband_china_demo_entities.csv")
    assert len(ent) == 117
    ent["cohort_year"] = ent.cohort_year.astype(int)
    ent["list_order"] = ent.list_order.astype(int)
    ent["entity_id"] = ent.cohort_year.astype(str) + "-" + ent.list_order.map("{:02d}".format)
    cw = read("broadband_china_prefecture_crosswalk.csv")
    assert len(cw) == 119
    # attach entity_id to the crosswalk by (cohort, verbatim name)
    key = ent.set_index(["cohort_year", "entity_name_zh"]).entity_id
    cw["cohort_year"] = cw.cohort_year.astype(int)
    cw["entity_id"] = [key[(c, n)] for c, n in zip(cw.cohort_year, cw.entity_name_zh)]
    whole = cw.groupby("entity_id").whole_prefecture_designated.agg(lambda s: bool((s == "1").all()))
    entities = pd.DataFrame({
        "entity_id": ent.entity_id,
        "cohort_year": ent.cohort_year,
        "list_order": ent.list_order,
        "name_zh": ent.entity_name_zh,
        "name_en": ent.entity_name_en,
        "name_en_source": ent.entity_name_en_source,
        "entity_type": ent.entity_type,
        "entity_code": ent.entity_code,
        "province_code": ent.province_code,
        "province_zh": ent.province_zh,
        "province_en": ent.province_code.map(PROV_EN),
        "prefecture_codes": ent.prefecture_codes,
        "prefecture_names_zh": ent.prefecture_names_zh,
        "whole_unit": ent.entity_id.map(whole),
        "announcement_date": ent.announcement_date,
        "notes": ent.notes,
        "sources": ent.sources,
    })
    ref_codes = set(pref_ref.prefecture_code)
    crosswalk = pd.DataFrame({
        "entity_id": cw.entity_id,
        "cohort_year": cw.cohort_year,
        "entity_name_zh": cw.entity_name_zh,
        "entity_name_en": cw.entity_id.map(entities.set_index("entity_id").name_en),
        "entity_type": cw.entity_type,
        "entity_code": cw.entity_code,
        "prefecture_code": cw.prefecture_code,
        "prefecture_name_zh": cw.prefecture_name_zh,
        "prefecture_name_en": cw.prefecture_code.map(PREF_EN),
        "province_code": cw.province_code,
        "whole_prefecture_designated": cw.whole_prefecture_designated == "1",
        "in_prefecture_reference": cw.prefecture_code.isin(ref_codes),
    })
    return entities, crosswalk


def build_prefectures(crosswalk: pd.DataFrame) -> pd.DataFrame:
    geo = read("geo/prefecture_units.csv")
    geo["ref_code"] = geo.adcode.replace(GEO_TO_REF)
    geo = geo[geo.ref_code.isin(set(pref_ref.prefecture_code))].set_index("ref_code")
    assert len(geo) == 337
    cw = crosswalk[crosswalk.in_prefecture_reference]
    any_c = cw.groupby("prefecture_code").cohort_year.min()
    whole_c = cw[cw.whole_prefecture_designated].groupby("prefecture_code").cohort_year.min()
    ent = cw.sort_values(["cohort_year", "entity_id"]).groupby("prefecture_code").apply(
        lambda d: ";".join(f"{c}:{n}" for c, n in zip(d.cohort_year, d.entity_name_zh)), include_groups=False)
    r = pref_ref
    out = pd.DataFrame({
        "prefecture_code": r.prefecture_code,
        "name_zh": r.prefecture_name_zh,
        "name_en": r.prefecture_code.map(PREF_EN),
        "unit_type": r.unit_type,
        "province_code": r.province_code,
        "province_zh": r.province_zh,
        "province_en": r.province_code.map(PROV_EN),
        "region": r.province_code.map(REGION),
        "region4": r.province_code.map(REGION4),
        "lat": r.lat.astype(float),
        "lon": r.lon.astype(float),
        "centroid_lon": r.prefecture_code.map(geo.centroid_lon).astype(float),
        "centroid_lat": r.prefecture_code.map(geo.centroid_lat).astype(float),
        "area_km2": r.prefecture_code.map(geo.area_km2).astype(float),
        "geo_adcode": r.prefecture_code.map(geo.adcode),
        "bbc_cohort": r.prefecture_code.map(whole_c).astype("Int64"),
        "bbc_cohort_any": r.prefecture_code.map(any_c).astype("Int64"),
        "bbc_entities": r.prefecture_code.map(ent),
    })
    out.insert(out.columns.get_loc("bbc_entities"), "bbc_partial",
               out.bbc_cohort_any.notna() & (out.bbc_cohort.isna() | (out.bbc_cohort_any < out.bbc_cohort)).fillna(True))
    # cross-check against the upstream derived treatment table
    t = read("broadband_china_prefecture_treatment.csv").set_index("prefecture_code")
    chk = out.set_index("prefecture_code")
    assert (chk.bbc_cohort.astype("string").fillna("") == t.first_cohort_whole_unit.fillna("")).all()
    assert (chk.bbc_cohort_any.astype("string").fillna("") == t.first_cohort_any_entity.fillna("")).all()
    return out.sort_values("prefecture_code", ignore_index=True)


def build_prefecture_contiguity(prefs: pd.DataFrame) -> pd.DataFrame:
    c = read("geo/prefecture_contiguity.csv")
    assert len(c) == 969
    a, b = c.adcode_i.replace(GEO_TO_REF), c.adcode_j.replace(GEO_TO_REF)
    keep = a.isin(set(prefs.prefecture_code)) & b.isin(set(prefs.prefecture_code))
    dropped = c[~keep]
    print(f"  prefecture contiguity: kept {keep.sum()}, dropped {len(dropped)} edges touching non-reference units")
    lost_units = sorted(set(dropped.adcode_i[~a.isin(set(prefs.prefecture_code))])
                        | set(dropped.adcode_j[~b.isin(set(prefs.prefecture_code))]))
    names = dict(zip(c.adcode_i, c.name_i)) | dict(zip(c.adcode_j, c.name_j))
    print("  non-reference units on dropped edges:", len(lost_units), [(u, names[u]) for u in lost_units])
    i = np.minimum(a[keep], b[keep])
    j = np.maximum(a[keep], b[keep])
    e = pd.DataFrame({"prefecture_code_i": i.values, "prefecture_code_j": j.values})
    assert not e.duplicated().any() and (e.prefecture_code_i < e.prefecture_code_j).all()
    p = prefs.set_index("prefecture_code")
    e["name_zh_i"] = e.prefecture_code_i.map(p.name_zh)
    e["name_zh_j"] = e.prefecture_code_j.map(p.name_zh)
    e["cross_province"] = e.prefecture_code_i.map(p.province_code) != e.prefecture_code_j.map(p.province_code)
    e = e.sort_values(["prefecture_code_i", "prefecture_code_j"], ignore_index=True)
    deg = pd.concat([e.prefecture_code_i, e.prefecture_code_j]).value_counts()
    iso = prefs[~prefs.prefecture_code.isin(deg.index)]
    print("  isolated reference units:", list(zip(iso.prefecture_code, iso.name_zh)))
    return e


def build_provinces() -> pd.DataFrame:
    geo = read("geo/province_units.csv").set_index("adcode")
    r = prov_ref
    cap = pref_ref.assign(key=pref_ref.province_code + pref_ref.prefecture_name_zh).set_index("key").prefecture_code
    muni = r.province_code.isin(["110000", "120000", "310000", "500000"])
    out = pd.DataFrame({
        "province_code": r.province_code,
        "name_zh": r.province_zh,
        "name_en": r.province_en,
        "region": r.province_code.map(REGION),
        "region4": r.province_code.map(REGION4),
        "capital_zh": r.capital_zh,
        "capital_code": np.where(muni, r.province_code, (r.province_code + r.capital_zh).map(cap)),
        "capital_lat": r.capital_lat.astype(float),
        "capital_lon": r.capital_lon.astype(float),
        "centroid_lon": r.province_code.map(geo.centroid_lon).astype(float),
        "centroid_lat": r.province_code.map(geo.centroid_lat).astype(float),
        "area_km2": r.province_code.map(geo.area_km2).astype(float),
    })
    assert out.notna().all().all(), out[out.isna().any(axis=1)]
    assert out.region.value_counts().to_dict() == {"West": 12, "East": 11, "Central": 8}
    return out


def build_province_contiguity() -> pd.DataFrame:
    rec = read("province_contiguity.csv")
    geo = read("geo/province_contiguity.csv")
    mainland = set(prov_ref.province_code)
    g = geo[geo.adcode_i.isin(mainland) & geo.adcode_j.isin(mainland)]
    print(f"  province contiguity: geo {len(geo)} edges, {len(g)} mainland; reconciled table {len(rec)} rows")
    # the reconciled table's polygon flag must equal the geo table restricted to the mainland
    poly = rec[rec.in_boundary_polygons == "1"]
    assert set(zip(poly.province_code_a, poly.province_code_b)) == set(zip(g.adcode_i, g.adcode_j))
    e = pd.DataFrame({
        "province_code_i": poly.province_code_a.values,
        "province_code_j": poly.province_code_b.values,
        "name_zh_i": poly.province_zh_a.values,
        "name_zh_j": poly.province_zh_b.values,
    })
    e["name_en_i"] = e.province_code_i.map(PROV_EN)
    e["name_en_j"] = e.province_code_j.map(PROV_EN)
    e["in_adjoin_list"] = (poly.in_adjoin_list == "1").values
    e["note"] = poly.note.values
    assert (e.province_code_i < e.province_code_j).all()
    print("  not polygon-based (excluded):", rec[rec.in_boundary_polygons != "1"][["province_zh_a", "province_zh_b", "note"]].values.tolist())
    return e.sort_values(["province_code_i", "province_code_j"], ignore_index=True)


# --------------------------------------------------------------------------------------------------------------
# Income: collect every (unit, year, variable) observation with its source, then merge cell by cell.
def national_records() -> pd.DataFrame:
    recs = []
    nat = read("national_urban_rural_income.csv")
    for _, row in nat.iterrows():
        y, keys = int(row.year), row.source_keys.split(";")
        val_keys = [k for k in keys if k != "LNYLFW"]  # LNYLFW supplies the reported ratios only
        if pd.notna(row.urban_disposable_income_per_capita_yuan):
            recs.append((y, "urban_income", float(row.urban_disposable_income_per_capita_yuan), None,
                         join_sources(*[NAT_KEYS[k] for k in val_keys])))
        if pd.notna(row.rural_income_per_capita_yuan):
            rk = [k for k in val_keys if k != "SD2013"]  # SD2013 has urban income only
            recs.append((y, "rural_income", float(row.rural_income_per_capita_yuan), row.rural_income_concept,
                         join_sources(*[NAT_KEYS[k] for k in rk])))
        if pd.notna(row.urban_rural_ratio_reported):
            recs.append((y, "ratio_reported", float(row.urban_rural_ratio_reported), None, NAT_KEYS["LNYLFW"]))
    # the national row of the Shandong-yearbook province table (same source as SD2013)
    sd = read("province_urban_disposable_income_2005_2012.csv")
    for _, row in sd[sd.region_code == "000000"].iterrows():
        recs.append((int(row.year), "urban_income", float(row.urban_disposable_income_per_capita_yuan), None,
                     NAT_KEYS["SD2013"]))
    seen = read("provinces/national_income_values_seen.csv")
    for _, row in seen.iterrows():
        var, concept = row.variable, None
        if var == "rural_income_net_pre2013_basis":
            var, concept = "rural_income", "net_income"
        elif var == "rural_income":
            concept = "disposable_income"
        recs.append((int(row.year), var, float(row.value), concept, row.source_url))
    # 2013 figures on the pre-reform survey basis, 2013 statistical communiqué as quoted on two pages
    recs.append((2013, "urban_income", 26955.0, None, f"{PEOPLE_2014};{COMMUNIQUE_2013}"))
    recs.append((2013, "rural_income", 8896.0, "net_income", f"{PEOPLE_2014};{COMMUNIQUE_2013}"))
    return pd.DataFrame(recs, columns=["year", "variable", "value", "concept", "source"]).assign(code="000000")


def province_records() -> pd.DataFrame:
    recs = []
    sd = read("province_urban_disposable_income_2005_2012.csv")
    for _, row in sd[sd.region_code != "000000"].iterrows():
        recs.append((row.region_code, int(row.year), "urban_income",
                     float(row.urban_disposable_income_per_capita_yuan), None, NAT_KEYS["SD2013"]))
    lg = read("provinces/province_income_urban_rural_long.csv")
    for _, row in lg.iterrows():
        for var, src in [("urban_income", row.urban_source_url), ("rural_income", row.rural_source_url),
                         ("total_income", row.total_source_url)]:
            if pd.notna(row[var]):
                concept = None
                if var == "rural_income":
                    concept = {"net_income_pre2013_basis": "net_income"}.get(row.rural_income_concept,
                                                                             row.rural_income_concept)
                recs.append((row.province_code, int(row.year), var, float(row[var]), concept, src))
    fr = read("province_income_fragments.csv")
    fmap = {"urban_disposable_income_per_capita_yuan": ("urban_income", None),
            "rural_net_income_per_capita_yuan": ("rural_income", "net_income"),
            "rural_disposable_income_per_capita_yuan": ("rural_income", "disposable_income")}
    for _, row in fr.iterrows():
        var, concept = fmap[row.variable]
        recs.append((row.province_code, int(row.year), var, float(row.value), concept, FRAG_KEYS[row.source_key]))
    # found while checking: Zhejiang 2013 (pre-reform basis) and a second source for Inner Mongolia 2022 total
    recs.append(("330000", 2013, "urban_income", 37851.0, None, f"{PEOPLE_2014};{CE_2014}"))
    recs.append(("330000", 2013, "rural_income", 16106.0, "net_income", f"{PEOPLE_2014};{CE_2014}"))
    recs.append(("150000", 2022, "total_income", 35921.0, None, FRAG_KEYS["NMG2023"]))
    return pd.DataFrame(recs, columns=["code", "year", "variable", "value", "concept", "source"])


def merge_cells(recs: pd.DataFrame, known: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """One value per (code, year, variable). Exact agreement: sources are pooled. Difference < 1 yuan (one
    source rounds to integer): first-listed value kept, recorded as 'rounding'. Larger: cell left blank and
    recorded as unresolved. `known` = upstream disagreement rows (already blank upstream)."""
    cells, dis = [], []
    for (code, year, var), d in recs.groupby(["code", "year", "variable"], sort=True):
        concepts = set(d.concept.dropna())
        assert len(concepts) <= 1, (code, year, var, concepts)
        concept = concepts.pop() if concepts else None
        vals = d.value.unique()
        if len(vals) == 1:
            cells.append((code, year, var, vals[0], concept, join_sources(*d.source)))
            continue
        first, other = d.iloc[0], d[d.value != d.iloc[0].value].iloc[0]
        gap = abs(first.value - other.value)
        if gap < 1:
            keep = first if float(first.value).is_integer() else other
            drop = other if keep is first else first
            cells.append((code, year, var, keep.value, concept, join_sources(*d.source)))
            res = f"rounding only; kept {keep.value:g} ({'integer as published' if float(keep.value).is_integer() else 'first source'}); {drop.value:g} rounds to it"
        else:
            res = "unresolved; cell left blank"
        dis.append(dict(code=code, year=year, variable=var, value_a=first.value, source_a=first.source,
                        value_b=other.value, source_b=other.source, abs_diff=round(gap, 4), resolution=res))
    for _, row in known.iterrows():
        dis.append(dict(code=row.province_code, year=int(row.year), variable=row.variable,
                        value_a=float(row.value_a), source_a=row.source_a, value_b=float(row.value_b),
                        source_b=row.source_b, abs_diff=abs(float(row.value_a) - float(row.value_b)),
                        resolution="unresolved; cell left blank (" + row.resolution.split(";")[0].replace("unresolved: ", "") + ")"))
    return pd.DataFrame(cells, columns=["code", "year", "variable", "value", "concept", "source"]), dis


def wide(cells: pd.DataFrame) -> pd.DataFrame:
    v = cells.pivot(index=["code", "year"], columns="variable", values="value")
    s = cells.pivot(index=["code", "year"], columns="variable", values="source")
    c = cells[cells.variable == "rural_income"].set_index(["code", "year"]).concept
    out = pd.DataFrame(index=v.index)
    for var in ["urban_income", "rural_income", "total_income"]:
        out[var] = v.get(var)
    out["rural_income_concept"] = c.reindex(out.index)
    out["ratio_reported"] = v.get("ratio_reported")
    for var, col in [("urban_income", "urban_source"), ("rural_income", "rural_source"),
                     ("total_income", "total_source"), ("ratio_reported", "ratio_source")]:
        out[col] = s.get(var)
    return out.reset_index()


def build_income():
    known = read("provinces/income_disagreements.csv")
    nat_cells, nat_dis = merge_cells(national_records(), known.iloc[0:0])
    prov_cells, prov_dis = merge_cells(province_records(), known)
    n = wide(nat_cells)
    national = pd.DataFrame({
        "year": n.year.astype(int),
        "urban_income": n.urban_income,
        "rural_income": n.rural_income,
        "total_income": n.total_income,
        "rural_income_concept": n.rural_income_concept,
        "urban_rural_ratio_reported": n.ratio_reported,
        "urban_rural_ratio_computed": (n.urban_income / n.rural_income).round(4),
        "urban_source": n.urban_source,
        "rural_source": n.rural_source,
        "total_source": n.total_source,
        "ratio_source": n.ratio_source,
    })
    note = pd.Series(np.nan, index=national.index, dtype=object)
    note[national.year == 2013] = ("pre-reform basis: urban from the urban household survey, rural net income from the "
                                   "rural household survey (2013 communiqué); not comparable with 2014+ integrated-survey values")
    note[(national.year == 2010)] = "ratio mixes urban disposable income with rural NET income (pre-2013 concept)"
    national["note"] = note
    p = wide(prov_cells)
    province = pd.DataFrame({
        "province_code": p.code,
        "province_zh": p.code.map(PROV_ZH),
        "province_en": p.code.map(PROV_EN),
        "year": p.year.astype(int),
        "urban_income": p.urban_income,
        "rural_income": p.rural_income,
        "total_income": p.total_income,
        "rural_income_concept": p.rural_income_concept,
        "urban_source": p.urban_source,
        "rural_source": p.rural_source,
        "total_source": p.total_source,
    })
    assert p.ratio_reported.isna().all()
    dis = pd.DataFrame(nat_dis + prov_dis)
    names = {"000000": ("national", "全国", "China")} | {c: ("province", PROV_ZH[c], PROV_EN[c]) for c in PROV_EN}
    disagreements = pd.DataFrame({
        "level": dis.code.map(lambda c: names[c][0]),
        "region_code": dis.code,
        "name_zh": dis.code.map(lambda c: names[c][1]),
        "name_en": dis.code.map(lambda c: names[c][2]),
        "year": dis.year.astype(int),
        "variable": dis.variable,
        "value_a": dis.value_a, "source_a": dis.source_a,
        "value_b": dis.value_b, "source_b": dis.source_b,
        "abs_diff": dis.abs_diff, "resolution": dis.resolution,
    }).sort_values(["region_code", "year", "variable"], ignore_index=True)
    return national, province, disagreements


def build_gdp_pop():
    g = read("provinces/province_gdp_per_capita_long.csv")
    gdp = pd.DataFrame({
        "province_code": g.province_code, "province_zh": g.province_code.map(PROV_ZH),
        "province_en": g.province_en, "year": g.year.astype(int),
        "gdp_per_capita_cny": g.gdp_per_capita_cny.astype(float),
        "gdp_per_capita_usd_nominal": g.gdp_per_capita_usd_nominal.astype(float),
        "source": g.source_url,
    }).sort_values(["province_code", "year"], ignore_index=True)
    f = read("provinces/province_population_urbanization_fragments.csv")
    units = {"resident_population_10k": "10,000 persons", "urbanization_rate_pct": "percent"}
    pop = pd.DataFrame({
        "province_code": f.province_code, "province_zh": f.province_code.map(PROV_ZH),
        "province_en": f.province_en, "year": f.year.astype(int), "variable": f.variable,
        "value": f.value.astype(float), "unit": f.variable.map(units), "source": f.source_url,
    }).sort_values(["province_code", "year", "variable"], ignore_index=True)
    return gdp, pop


def build_outlines(prefs: pd.DataFrame) -> None:
    p = prefs.set_index("prefecture_code")
    for src, dst, level in [("geo/prefecture_outlines.geojson", "china_prefecture_outlines.geojson", "prefecture"),
                            ("geo/province_outlines.geojson", "china_province_outlines.geojson", "province")]:
        gj = json.loads((SRC / src).read_text(encoding="utf-8"))
        feats = []
        for f in gj["features"]:
            pr = f["properties"]
            if level == "prefecture":
                code = GEO_TO_REF.get(pr["adcode"], pr["adcode"])
                inref = code in p.index
                props = {"prefecture_code": code if inref else None, "adcode": pr["adcode"], "name_zh": pr["name"],
                         "name_en": p.name_en[code] if inref else None,
                         "province_code": pr["adcode"][:2] + "0000", "in_reference": inref}
            else:
                inref = pr["adcode"] in PROV_EN
                props = {"province_code": pr["adcode"] if inref else None, "adcode": pr["adcode"],
                         "name_zh": pr["name"], "name_en": PROV_EN.get(pr["adcode"]), "in_reference": inref}
            feats.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
        out = {"type": "FeatureCollection", "features": feats}
        text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
        (OUT / dst).write_text(text, encoding="utf-8")
        print(f"{dst}: {len(feats)} features ({sum(f['properties']['in_reference'] for f in feats)} in reference), "
              f"{len(text.encode()) / 1e6:.2f} MB")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    entities, crosswalk = build_bbc()
    write(entities, "broadband_china_entities")
    write(crosswalk, "broadband_china_crosswalk")
    prefs = build_prefectures(crosswalk)
    write(prefs, "china_prefectures")
    write(build_prefecture_contiguity(prefs), "china_prefecture_contiguity")
    write(build_provinces(), "china_provinces")
    write(build_province_contiguity(), "china_province_contiguity")
    national, province, dis = build_income()
    write(national, "china_national_income")
    write(province, "china_province_income")
    write(dis, "income_source_disagreements")
    gdp, pop = build_gdp_pop()
    write(gdp, "china_province_gdp_per_capita")
    write(pop, "china_province_population_fragments")
    build_outlines(prefs)


if __name__ == "__main__":
    main()
