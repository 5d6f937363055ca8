"""D4: Hangzhou (136,617) vs Lishui (61,811) GDP per capita in 2020, "a gap of only 1.21 times".

The checks use the source's own figures (registry ``inputs``): the ratio is 136617 / 61811 = 2.21, so "1.21 times"
is right only as "1.21 times more". Whether the two figures themselves are right needs prefecture GDP per capita,
which the bundled data do not hold (only a few province-level figures).
"""

from econ import datasets


def run(data=None, out_dir=None, inputs=None):
    hz, ls = float(inputs["hangzhou_gdp_pc_2020"]), float(inputs["lishui_gdp_pc_2020"])
    stated = float(inputs["stated_gap_times"])
    ratio = hz / ls
    excess = (hz - ls) / ls
    province = datasets.load("china_province_gdp_per_capita")
    zj = province[(province["province_code"] == "330000") & province["gdp_per_capita_cny"].notna()]
    return {
        "values": {"ratio_read_as_stated": ratio, "excess_over_lishui": excess},
        "untestable": {"figures_in_bundled_data": (
            "the bundled data have no prefecture-level GDP per capita (china_province_gdp_per_capita holds "
            f"province figures for {sorted(set(province['year'].dropna().astype(int)))} only)")},
        "numbers": {"hangzhou": hz, "lishui": ls, "ratio": ratio, "excess": excess, "stated": stated,
                    "zhejiang_province_gdp_pc_years": sorted(int(y) for y in zj["year"])},
        "notes": [
            f"136617 / 61811 = {ratio:.4f}: Hangzhou's GDP per capita is {ratio:.2f} times Lishui's, i.e. "
            f"{excess:.2f} times MORE. The source's '差距仅为{stated}倍' is right only in that second reading; "
            f"read as a ratio it understates the gap by {ratio - stated:.2f}.",
        ],
        "seed": None,
    }
