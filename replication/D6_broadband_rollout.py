"""D6: the Broadband China roll-out — 117 entities in three lists of 39; prefecture coverage; East/Central/West
distribution; a map; and whether designated prefectures cluster in space.

Data: ``broadband_china_entities`` (the three official lists), ``china_prefectures`` (cohort of each prefecture-level
unit, region), ``china_prefecture_contiguity`` (queen contiguity of the outlines), ``china_prefecture_outlines``.

Treatment definition (the DiD's): a prefecture is designated in the first year its WHOLE unit was named
(``bbc_cohort``); units with only a county or district named (商丘's 永城 in 2015, Chongqing's districts) are counted
separately. Spatial clustering is tested on the designated/never indicator with join counts (binary contiguity) and
Moran's I (row-standardised), both with permutation p-values.
"""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from econ import datasets  # noqa: E402
from econ.spatial import join_counts, moran  # noqa: E402

SEED = 20140926
PERMUTATIONS = 9999
ALPHA = 0.05
COLOURS = {2014: "#08519c", 2015: "#4292c6", 2016: "#9ecae1", "partial": "#fdae6b", "never": "#f0f0f0",
           "other": "#d9d9d9"}


def run(data=None, out_dir=None, permutations=PERMUTATIONS, seed=SEED):
    entities = datasets.load("broadband_china_entities")
    pref = datasets.load("china_prefectures")
    by_cohort = entities.groupby("cohort_year").size()

    designated = pref["bbc_cohort"].notna()
    partial_only = pref["bbc_cohort"].isna() & pref["bbc_cohort_any"].notna()
    regions = _region_table(pref)

    w = datasets.load_weights("china_prefecture_contiguity").align(pref["prefecture_code"].tolist())
    y = pd.Series(designated.astype(int).to_numpy(), index=pref["prefecture_code"].tolist())
    jc = join_counts(y, w, permutations=permutations, seed=seed)
    mi = moran(y, w, transform="r", permutations=permutations, seed=seed)
    exposure = _exposure(y, w)
    clustered = bool(mi.p_sim < ALPHA)  # decision rule: Moran's I permutation test; join counts reported

    numbers = {
        "entities_total": len(entities),
        "entities_by_cohort": {str(k): int(v) for k, v in by_cohort.items()},
        "entities_by_type": {k: int(v) for k, v in entities["entity_type"].value_counts().sort_index().items()},
        "prefectures_total": len(pref),
        "prefectures_designated_whole": int(designated.sum()),
        "prefectures_designated_any_part": int(pref["bbc_cohort_any"].notna().sum()),
        "prefectures_partial_only": int(partial_only.sum()),
        "prefectures_by_cohort": {str(k): int(v) for k, v in pref["bbc_cohort"].value_counts().sort_index().items()},
        "region_designated": {r: int(regions.loc[r, "designated"]) for r in regions.index},
        "region_units": {r: int(regions.loc[r, "units"]) for r in regions.index},
        "join_counts": {"bb": jc.bb, "bw": jc.bw, "ww": jc.ww, "joins": jc.joins,
                        "bb_permutation_mean": float(jc.sim_bb.mean()), "bw_permutation_mean": float(jc.sim_bw.mean()),
                        "p_sim_bb": jc.p_sim_bb, "p_sim_bw": jc.p_sim_bw},
        "moran": {"I": mi.I, "expected": mi.expected, "z_rand": mi.z_rand, "p_rand": mi.p_rand, "p_sim": mi.p_sim},
        "islands": len(w.islands),
        "clustered": clustered,
        "exposure": exposure,
        "permutations": permutations,
    }
    notes = _notes(numbers, jc, mi)
    tables = {
        "entities_by_cohort": (_cohort_table(entities), "Designated entities by list and type"),
        "regions": (regions.reset_index(), "Prefecture-level units designated (whole unit) by region and cohort"),
        "spatial_clustering": (pd.concat([jc.tidy(), _moran_row(mi)], ignore_index=True),
                               f"Spatial clustering of designation ({permutations} permutations, seed {seed})"),
    }
    return {
        "values": {"entities_total": len(entities),
                   **{f"entities_{c}": int(by_cohort.get(c, 0)) for c in (2014, 2015, 2016)}},
        "numbers": numbers, "tables": tables,
        "figures": {"map": (_map(pref, entities), "Broadband China designation by cohort, prefecture-level units "
                                                  "(simplified outlines)")},
        "notes": notes, "seed": seed,
    }


def _moran_row(mi):
    row = mi.tidy()[["statistic", "value", "perm_mean", "perm_sd", "p_sim"]]
    return row.assign(alternative="folded (direction of I)")


def _region_table(pref):
    frame = pref.assign(cohort=pref["bbc_cohort"].astype("Float64").fillna(0).astype(int))
    table = pd.crosstab(frame["region"], frame["cohort"]).reindex(["East", "Central", "West"])
    table.columns = ["never" if c == 0 else str(c) for c in table.columns]
    table["units"] = table.sum(axis=1)
    table["designated"] = table["units"] - table["never"]
    table["share_designated"] = (table["designated"] / table["units"]).round(3)
    table.index.name = "region"
    return table


def _cohort_table(entities):
    table = pd.crosstab(entities["entity_type"], entities["cohort_year"], margins=True, margins_name="total")
    table.columns = [str(c) for c in table.columns]
    return table.reset_index().rename(columns={"entity_type": "entity type"})


def _exposure(y, w):
    """How exposed the never-designated comparison group is: designated neighbours by 2016."""
    d = y.loc[list(w.ids)].to_numpy(dtype=float)
    share = w.row_standardize().lag(d)
    never = (d == 0)
    has_nb = w.cardinalities.to_numpy() > 0
    control = never & has_nb
    exposed = control & (w.lag(d) > 0)
    return {
        "never_designated": int(never.sum()),
        "never_designated_with_neighbours": int(control.sum()),
        "never_with_designated_neighbour": int(exposed.sum()),
        "share_never_with_designated_neighbour": float(exposed.sum() / control.sum()),
        "mean_designated_share_never": float(share[control].mean()),
        "mean_designated_share_designated": float(share[(~never) & has_nb].mean()),
    }


def _notes(num, jc, mi):
    ex = num["exposure"]
    word = lambda p: "significant" if p < ALPHA else "not significant"  # noqa: E731
    return [
        f"{num['entities_total']} entities were designated "
        f"({', '.join(f'{v} in {k}' for k, v in num['entities_by_cohort'].items())}). They cover "
        f"{num['prefectures_designated_whole']} of {num['prefectures_total']} prefecture-level units as whole units "
        f"and {num['prefectures_designated_any_part']} counting units with only a county or district named.",
        f"Designated prefectures {'are' if num['clustered'] else 'are not detectably'} spatially clustered by the "
        f"decision rule (Moran's I permutation p < {ALPHA}): Moran's I = {mi.I:.3f} against E[I] = {mi.expected:.3f} "
        f"(permutation p = {mi.p_sim:.4f}). Join counts: {jc.bw:g} designated/never joins against "
        f"{jc.sim_bw.mean():.1f} under random placement (fewer mixed joins, p = {jc.p_sim_bw:.4f}, "
        f"{word(jc.p_sim_bw)}); {jc.bb:g} designated/designated joins against {jc.sim_bb.mean():.1f} "
        f"(p = {jc.p_sim_bb:.4f}, {word(jc.p_sim_bb)}).",
        f"Of the {ex['never_designated_with_neighbours']} never-designated units with land neighbours, "
        f"{ex['never_with_designated_neighbour']} ({100 * ex['share_never_with_designated_neighbour']:.0f}%) border a "
        f"designated unit; on average {100 * ex['mean_designated_share_never']:.0f}% of their neighbours are "
        f"designated (against {100 * ex['mean_designated_share_designated']:.0f}% for designated units). A spillover "
        "would therefore reach most of the DiD's comparison group and, if it has the same sign as the direct effect, "
        "bias the direct estimate towards zero; K2 estimates it explicitly.",
    ]


def _map(pref, entities):
    """Designation by cohort on the prefecture outlines, drawn by the package's one map function."""
    from econ.plot import choropleth

    partial = pref["bbc_cohort"].isna() & pref["bbc_cohort_any"].notna()
    category = pd.Series(np.where(partial, "partial", "never"), index=pref["geo_adcode"].to_numpy(), dtype=object)
    has = pref["bbc_cohort"].notna().to_numpy()
    category.iloc[np.flatnonzero(has)] = pref.loc[has, "bbc_cohort"].astype(int).to_numpy()
    # designated units outside the prefecture table (the XPCC city) are matched by their outline adcode
    outside = entities[entities["entity_code"].notna() & ~entities["entity_code"].isin(category.index)]
    for code, year in zip(outside["entity_code"], outside["cohort_year"]):
        category[code] = int(year)
    labels = {2014: "designated 2014", 2015: "designated 2015", 2016: "designated 2016",
              "partial": "only a county/district designated", "never": "never designated",
              "other": "not a prefecture-level unit in the panel"}
    fig, _ = choropleth(category, "prefecture", key="adcode", colors=COLOURS, labels=labels,
                        missing_color=COLOURS["other"], extent=(73, 136, 17, 54),
                        title="Broadband China demonstration cities by cohort (prefecture-level units)")
    return fig
