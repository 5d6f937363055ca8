"""D5: urban vs rural internet penetration 2022, "83.1% vs 61.9%, a gap above 20 points" — and "82.9% vs 58.8%"
elsewhere in the same source.

Checks use the source's own figures (registry ``inputs``): the gap under each pair, and whether the pairs agree.
Penetration rates are not in the bundled data (no CNNIC series), so the levels themselves are not testable.
"""


def run(data=None, out_dir=None, inputs=None):
    ua, ra, ub, rb = (float(inputs[k]) for k in ("urban_pct_a", "rural_pct_a", "urban_pct_b", "rural_pct_b"))
    gap_a, gap_b = ua - ra, ub - rb
    return {
        "values": {"gap_pp_first_pair": gap_a, "gap_pp_second_pair": gap_b,
                   "urban_difference_between_pairs": ua - ub, "rural_difference_between_pairs": ra - rb},
        "untestable": {"levels_in_bundled_data": "no internet penetration series is bundled (see econ data list); "
                                                 "the figures would need CNNIC's survey reports"},
        "numbers": {"gap_first_pair": gap_a, "gap_second_pair": gap_b, "urban_a": ua, "rural_a": ra,
                    "urban_b": ub, "rural_b": rb, "urban_diff": ua - ub, "rural_diff": ra - rb},
        "notes": [
            f"§4(1) gives {ua}% vs {ra}% (gap {gap_a:.1f} points); §4(3) gives {ub}% vs {rb}% (gap {gap_b:.1f} "
            f"points). The rural figures differ by {ra - rb:.1f} points and the urban by {ua - ub:.1f}: the source is "
            f"internally inconsistent, but the gap exceeds {inputs['stated_gap_floor']} points under both pairs "
            f"(smallest {min(gap_a, gap_b):.1f}).",
        ],
        "seed": None,
    }
