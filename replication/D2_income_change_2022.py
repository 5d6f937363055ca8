"""D2: rural income grew 6.3% in 2022 and the urban/rural ratio narrowed by 0.05 from 2021.

Data: ``china_national_income`` (NBS 2021 and 2022 releases). Growth is nominal (current prices), as in the NBS
release the source quotes.
"""

from econ import datasets


def run(data=None, out_dir=None):
    nat = datasets.load("china_national_income").set_index("year")
    r21, r22 = float(nat.at[2021, "rural_income"]), float(nat.at[2022, "rural_income"])
    u21, u22 = float(nat.at[2021, "urban_income"]), float(nat.at[2022, "urban_income"])
    growth = 100 * (r22 / r21 - 1)
    ratio21, ratio22 = u21 / r21, u22 / r22
    change = ratio21 - ratio22
    rounded_change = round(round(ratio21, 2) - round(ratio22, 2), 2)
    reported21 = nat.at[2021, "urban_rural_ratio_reported"]
    return {
        "values": {"rural_growth_pct_2022": growth, "ratio_change_2021_2022": change},
        "numbers": {"rural_2021": r21, "rural_2022": r22, "urban_2021": u21, "urban_2022": u22,
                    "rural_growth_pct": growth, "urban_growth_pct": 100 * (u22 / u21 - 1),
                    "ratio_2021": ratio21, "ratio_2022": ratio22, "ratio_change_unrounded": change,
                    "ratio_change_of_rounded_ratios": rounded_change,
                    "ratio_2021_reported": None if reported21 != reported21 else float(reported21)},
        "notes": [
            f"Rural income rose from {r21:,.0f} to {r22:,.0f} yuan: {growth:.2f}% nominal growth, which rounds to "
            f"{growth:.1f}%.",
            f"The ratio fell from {ratio21:.4f} to {ratio22:.4f}, by {change:.4f} (which would round to "
            f"{change:.2f}); the difference of the ratios as published to two decimals, {ratio21:.2f} - "
            f"{ratio22:.2f} = {rounded_change:.2f}, is the source's figure.",
        ],
        "seed": None,
    }
