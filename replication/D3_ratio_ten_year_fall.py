"""D3: the urban/rural ratio (2.45 in 2022) fell by 0.43 over the ten years to 2022.

Data: ``china_national_income``. The claim needs a 2012 ratio on the same income concept as 2022. Rural income
before 2013 is "net income" (纯收入, rural household survey); from 2013 the integrated household survey reports
"disposable income". A ratio with pre-2013 net income is not comparable, so the script only computes the fall when
the bundled data hold a 2012 rural figure on the disposable-income basis, and otherwise reports what is missing and
what the non-comparable figures would give.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from econ import datasets  # noqa: E402

START, END = 2012, 2022


def run(data=None, out_dir=None, inputs=None):
    claimed_fall = float(inputs["claimed_fall"])
    nat = datasets.load("china_national_income").set_index("year")
    series = nat.dropna(subset=["urban_income", "rural_income"]).copy()
    series["ratio"] = series["urban_income"] / series["rural_income"]
    ratio_end = float(series.at[END, "ratio"])
    implied = ratio_end + claimed_fall
    numbers = {"ratio_2022": ratio_end, "implied_ratio_2012": implied,
               "urban_income_2012": _get(nat, START, "urban_income"),
               "rural_income_2012": _get(nat, START, "rural_income"),
               "rural_concept_2012": _get(nat, START, "rural_income_concept")}
    comparable = START in series.index and series.at[START, "rural_income_concept"] == "disposable_income"
    values, untestable, notes = {}, {}, []
    if comparable:
        values["ratio_fall_2012_2022"] = float(series.at[START, "ratio"]) - ratio_end
    else:
        net = series[series["rural_income_concept"] == "net_income"]
        for year, row in net.iterrows():
            numbers[f"ratio_{year}_net_income_basis"] = float(row["ratio"])
            numbers[f"fall_{year}_to_2022_mixed_concepts"] = float(row["ratio"]) - ratio_end
        have_rural = numbers["rural_income_2012"] is not None
        missing = ("the 2012 national rural per-capita DISPOSABLE income (integrated-survey basis, with the "
                   "matching urban figure)")
        untestable["ratio_fall_2012_2022"] = (
            f"missing figure: {missing}; the bundled data have "
            + ("a 2012 rural figure only on the net-income basis" if have_rural else "no 2012 rural income at all")
            + f" (2012 urban {numbers['urban_income_2012']:,.0f}). The claim implies a 2012 ratio of "
            f"{implied:.2f}; the nearest bundled ratios use rural NET income and are not comparable: "
            + ", ".join(f"{y} {r['ratio']:.2f}" for y, r in net.iterrows()))
        notes.append(
            "On the old net-income basis the bundled ratios are "
            + ", ".join(f"{r['ratio']:.3f} in {y}" for y, r in net.iterrows())
            + "; a 'fall to 2022' computed from them ("
            + ", ".join(f"{r['ratio'] - ratio_end:.2f} from {y}" for y, r in net.iterrows())
            + f") mixes two income concepts and cannot be compared with the claimed {claimed_fall}.")
    return {
        "values": values, "untestable": untestable, "numbers": numbers,
        "tables": {"ratio_series": (series.reset_index()[["year", "urban_income", "rural_income",
                                                          "rural_income_concept", "ratio"]],
                                    "Bundled national urban/rural income ratios and the rural income concept")},
        "figures": {"ratio_series": (_figure(series, implied),
                                    "Urban/rural income ratio by year and rural income concept; the hollow marker is "
                                    "the 2012 ratio the claim implies")},
        "notes": notes, "seed": None,
    }


def _get(frame, year, col):
    if year not in frame.index:
        return None
    v = frame.at[year, col]
    return None if v != v or v is None else (float(v) if not isinstance(v, str) else v)


def _figure(series, implied):
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    for concept, marker, label in (("net_income", "s", "rural NET income (before 2013 basis)"),
                                   ("disposable_income", "o", "rural DISPOSABLE income (integrated survey)")):
        part = series[series["rural_income_concept"] == concept]
        ax.plot(part.index, part["ratio"], marker, label=label, ms=7)
    ax.plot([START], [implied], "o", mfc="none", mec="crimson", ms=9, label=f"{START} ratio implied by the claim")
    ax.axvline(2012.5, color="grey", lw=0.8, ls=":")
    ax.text(2012.6, ax.get_ylim()[1], "integrated survey from 2013", va="top", fontsize=8, color="grey")
    ax.set_xlabel("year")
    ax.set_ylabel("urban / rural income")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("National urban/rural income ratio in the bundled data", fontsize=9)
    return fig
