"""K3: the effect differs between the East, Central and West regions.

Design: ``econ.did.subgroups`` -- a TWFE DiD per region, and a Wald test (F form, clustered by unit) that the
three effects are equal from the pooled model with region-specific year effects. A test that does not reject is
"not established" on a user's file, never evidence that the effects are equal (with a few dozen treated units per
region it has little power against differences of about one standard error). On the simulated panel each region's
estimate is compared with that region's true average ATT over its treated unit-years; those true averages differ
between regions (through cohort composition and timing, by about one standard error), so a non-rejection there is a
miss of low power, not a correct "no heterogeneity".
"""

import matplotlib

matplotlib.use("Agg")

from econ import did  # noqa: E402
from econ.claims.causal import causal_panel, not_mapped, standardized_error, true_effects  # noqa: E402


def run(data=None, out_dir=None, roles=None):
    panel = causal_panel(data, roles)
    frame, unit, time = panel.frame, panel.unit, panel.time
    region = panel.roles["region"]
    if not region:
        reason = not_mapped("region")
        return {"values": {}, "untestable": {"heterogeneity_pvalue": reason}, "simulated": panel.simulated,
                "numbers": {}, "notes": [f"Not testable: {reason}."], "seed": panel.seed}
    sub = did.subgroups(frame, panel.y, unit, time, panel.treat, by=region, covariates=panel.roles["controls"])
    test = sub.equality_test
    table = sub.table
    numbers = {
        "by_region": {str(g): {"estimate": float(r["estimate"]), "se": float(r["se"]), "pvalue": float(r["pvalue"]),
                               "n_treated_units": int(r["n_treated_units"])} for g, r in table.iterrows()},
        "equality_F": float(test.F), "equality_df": [int(test.df), float(test.df2)],
        "equality_pvalue": float(test.pvalue_F),
    }
    out = {
        "values": {"heterogeneity_pvalue": float(test.pvalue_F)},
        "simulated": panel.simulated, "numbers": numbers, "seed": panel.seed,
        "tables": {"by_region": (table.reset_index(), f"Effect of treatment on {panel.outcome_label} by {region} "
                                                      "(separate TWFE regressions)")},
        "figures": {"by_region": (sub.plot()[0], f"Effect of treatment on {panel.outcome_label} by {region} with "
                                                 "95% intervals")},
        "notes": ["Effects by region: " + "; ".join(f"{g} {v['estimate']:.4f} (s.e. {v['se']:.4f})"
                                                    for g, v in numbers["by_region"].items())
                  + f". Equality test F({test.df}, {test.df2:g}) = {test.F:.2f}, p = {test.pvalue_F:.3f}."],
    }
    if panel.simulated:
        att = true_effects(panel)
        treated = frame[panel.treat] == 1
        truth = {str(g): float(att[treated & (frame[region] == g)].mean()) for g in table.index}
        z = {g: standardized_error(numbers["by_region"][g]["estimate"], truth[g], numbers["by_region"][g]["se"])
             for g in truth}
        out["pipeline_values"] = {"region_effect_error": max(z.values())}
        numbers["truth"] = {"att_by_region": truth, "z_by_region": z}
    return out
