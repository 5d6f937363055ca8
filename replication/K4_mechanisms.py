"""K4: mechanisms -- designation raises new-firm creation, rural non-farm employment and public services.

Design: ``econ.did.channels`` -- the same TWFE DiD (unit and year effects, clustered by unit) with each channel
variable as the outcome; one-sided p-values for an increase. These are effects of designation on the channel
variables, not a decomposition of the income effect (see ``econ.did.channels`` for why no stepwise mediation test
is run). A channel whose column is absent from the user's panel is not testable.
"""

from econ import did
from econ.claims.causal import causal_panel, one_sided_p, standardized_error
from econ.claims.schema import CHANNEL_ROLES

CHECK = {"firms": "new_firms_per_10k_pvalue_greater", "nonfarm": "rural_nonfarm_share_pvalue_greater",
         "public_services": "public_service_index_pvalue_greater"}


def run(data=None, out_dir=None, roles=None):
    panel = causal_panel(data, roles)
    frame, unit, time = panel.frame, panel.unit, panel.time
    columns = {role: panel.roles[role] for role in CHANNEL_ROLES}
    present = {role: col for role, col in columns.items() if col in frame.columns}
    values, untestable = {}, {}
    for role, col in columns.items():
        if role not in present:
            untestable[CHECK[role]] = (f"column {col!r} (role {role}) is not in the data; map it with "
                                       f"--map {role}=<column>")
    if not present:
        return {"values": {}, "untestable": untestable, "simulated": panel.simulated, "numbers": {},
                "pipeline_values": {}, "notes": ["no channel column in the data"], "seed": panel.seed}
    result = did.channels(frame, "log_income_ratio", unit, time, "treated", mediators=list(present.values()),
                          covariates=panel.roles["controls"])
    table = result.table
    numbers = {"channels": {}}
    for role, col in present.items():
        res = result.results[col]
        p_greater = one_sided_p(res, "treated", "greater")
        values[CHECK[role]] = p_greater
        numbers["channels"][col] = {"estimate": float(table.at[col, "estimate"]), "se": float(table.at[col, "se"]),
                                    "pvalue_greater": p_greater}
    numbers["outcome"] = {"estimate": float(table.at["log_income_ratio", "estimate"]),
                          "se": float(table.at["log_income_ratio", "se"])}
    out = {
        "values": values, "untestable": untestable, "simulated": panel.simulated, "numbers": numbers,
        "seed": panel.seed,
        "tables": {"channels": (table.reset_index(), "Effect of designation on the outcome and on each channel")},
        "regressions": {"regressions": (list(result.results.values()), list(result.results),
                                        "TWFE regressions of the outcome and each channel on designation")},
        "notes": ["Effects of designation on the channels: " + "; ".join(
            f"{c} {v['estimate']:.4g} (s.e. {v['se']:.2g})" for c, v in numbers["channels"].items()) + "."],
    }
    if panel.simulated:
        truth = panel.truth["mediator_effects"]
        z = {c: standardized_error(v["estimate"], truth[c], v["se"]) for c, v in numbers["channels"].items()}
        out["pipeline_values"] = {"mediator_effect_error": max(z.values())}
        numbers["truth"] = {"mediator_effects": {c: float(truth[c]) for c in z}, "z": z}
    return out
