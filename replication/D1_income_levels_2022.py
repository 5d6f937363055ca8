"""D1: 2022 national urban (about 49,000) and rural (20,133) per-capita disposable income; ratio 2.45.

Data: ``china_national_income`` (NBS 2022 release, reposted on three pages; see data/PROVENANCE.md).
"""

from econ import datasets


def run(data=None, out_dir=None):
    nat = datasets.load("china_national_income").set_index("year")
    row = nat.loc[2022]
    urban, rural = float(row["urban_income"]), float(row["rural_income"])
    ratio = urban / rural
    table = nat.loc[[2020, 2021, 2022], ["urban_income", "rural_income", "rural_income_concept"]].reset_index()
    table["ratio"] = (table["urban_income"] / table["rural_income"]).round(4)
    return {
        "values": {"urban_income_2022": urban, "rural_income_2022": rural, "ratio_2022": ratio},
        "numbers": {"urban_income_2022": urban, "rural_income_2022": rural, "ratio_2022": ratio,
                    "urban_in_wan": round(urban / 10000, 1), "rural_in_wan": round(rural / 10000, 1),
                    "rural_concept_2022": str(row["rural_income_concept"])},
        "tables": {"national_income_2020_2022": (table, "National per-capita disposable income (yuan, current "
                                                        "prices) and the urban/rural ratio")},
        "notes": [f"NBS figures for 2022: urban {urban:,.0f} yuan ({urban / 10000:.1f}万), rural {rural:,.0f} yuan "
                  f"({rural / 10000:.1f}万); ratio {ratio:.4f}, which rounds to {ratio:.2f}."],
        "seed": None,
    }
