"""K4: mechanisms -- designation raises new-firm creation, rural non-farm employment and public services.

Design: ``econ.did.channels`` -- the same TWFE DiD (unit and year effects, clustered by unit) with each channel
variable as the outcome; one-sided p-values for an increase, adjusted across the channels tested by Holm's step-down
method (the family-wise error rate stays at 5%; three unadjusted 5% tests pass at least once about 14% of the time
under a global null). These are effects of designation on the channel variables (the first link, treatment ->
channel), not a decomposition of the income effect: the verdict on a user's file says "treatment moves the channel",
never that the effect works through it. A channel whose column is absent from the user's panel is not testable.

The channel -> outcome link is never a check: the designation's quasi-randomness identifies treatment -> channel,
not channel -> outcome. On a user's panel each mapped channel's three-step mediation (``econ.panel.mediation``,
same fixed effects and controls, clustered by unit, Sobel standard errors) is *reported* with that caveat; the
notes always say which links were tested.
"""

import numpy as np
import pandas as pd

from econ import did
from econ.panel import mediation
from econ.claims.causal import causal_panel, not_mapped, one_sided_p, standardized_error
from econ.claims.schema import CHANNEL_ROLES

CHECK = {"firms": "new_firms_per_10k_pvalue_greater", "nonfarm": "rural_nonfarm_share_pvalue_greater",
         "public_services": "public_service_index_pvalue_greater"}


def run(data=None, out_dir=None, roles=None):
    panel = causal_panel(data, roles)
    frame, unit, time = panel.frame, panel.unit, panel.time
    present = {role: panel.roles[role] for role in CHANNEL_ROLES if panel.roles[role]}
    values = {}
    untestable = {CHECK[role]: not_mapped(role) for role in CHANNEL_ROLES if role not in present}
    if not present:
        return {"values": {}, "untestable": untestable, "simulated": panel.simulated, "numbers": {},
                "pipeline_values": {}, "seed": panel.seed,
                "notes": ["No channel column was mapped: nothing to test (neither treatment -> channel nor "
                          "channel -> outcome was estimated)."]}
    y, treat = panel.y, panel.treat
    result = did.channels(frame, y, unit, time, treat, mediators=list(present.values()),
                          covariates=panel.roles["controls"])
    table = result.table
    numbers = {"channels": {}}
    raw_p = {role: one_sided_p(result.results[col], treat, "greater") for role, col in present.items()}
    adjusted = holm(raw_p)
    for role, col in present.items():
        values[CHECK[role]] = adjusted[role]
        numbers["channels"][col] = {"estimate": float(table.at[col, "estimate"]), "se": float(table.at[col, "se"]),
                                    "pvalue_greater": raw_p[role], "pvalue_greater_holm": adjusted[role]}
    numbers["outcome"] = {"estimate": float(table.at[y, "estimate"]), "se": float(table.at[y, "se"])}
    tested = (f"Tested: treatment -> channel for {', '.join(present.values())} (one-sided TWFE DiD p-values). "
              "Not tested: channel -> outcome (the treatment's identification does not cover it)")
    missing = [f"{role}: not mapped, neither link estimated" for role in CHANNEL_ROLES if role not in present]
    tested += "; " + "; ".join(missing) + "." if missing else "."
    out = {
        "values": values, "untestable": untestable, "simulated": panel.simulated, "numbers": numbers,
        "seed": panel.seed,
        "tables": {"channels": (table.reset_index(),
                                f"Effect of treatment on {panel.outcome_label} and on each channel")},
        "regressions": {"regressions": (list(result.results.values()), list(result.results),
                                        f"TWFE regressions of {panel.outcome_label} and each channel on treatment")},
        "notes": ["Effects of treatment on the channels (first link only; channel -> outcome not tested): " + "; ".join(
            f"{c} {v['estimate']:.4g} (s.e. {v['se']:.2g}, one-sided p {v['pvalue_greater']:.3g}, Holm "
            f"{v['pvalue_greater_holm']:.3g})" for c, v in numbers["channels"].items()) + ".", tested],
    }
    if not panel.simulated:
        _report_links(out, frame, y, treat, unit, time, present, panel.roles["controls"])
    if panel.simulated:
        truth = panel.truth["mediator_effects"]
        z = {c: standardized_error(v["estimate"], truth[c], v["se"]) for c, v in numbers["channels"].items()}
        out["pipeline_values"] = {"mediator_effect_error": max(z.values())}
        numbers["truth"] = {"mediator_effects": {c: float(truth[c]) for c in z}, "z": z}
    return out


def holm(pvalues: dict) -> dict:
    """Holm's step-down adjusted p-values: p_(k) * (m - k + 1), made monotone and capped at 1."""
    keys = sorted(pvalues, key=lambda k: pvalues[k])
    m = len(keys)
    adjusted = np.maximum.accumulate([min(1.0, (m - i) * pvalues[k]) for i, k in enumerate(keys)])
    return {k: float(a) for k, a in zip(keys, adjusted)}


def _report_links(out, frame, y, treat, unit, time, present, controls):
    """Three-step mediation of each mapped channel, reported (never checked), with the identification caveat."""
    rows, links = [], {}
    for col in present.values():
        res = mediation(frame, y, treat, col, covariates=controls or (), fe=[unit, time], vcov={"CL1": unit},
                        n_draws=0)
        links[col] = {"b": res.b_hat, "b_se": res.b_se, "indirect": res.indirect, "indirect_sobel_se": res.sobel_se}
        rows.append({"channel": col, "a (treatment -> channel)": res.a_hat, "b (channel -> outcome)": res.b_hat,
                     "b s.e.": res.b_se, "indirect a*b": res.indirect, "Sobel s.e.": res.sobel_se})
    out["numbers"]["mediation"] = links
    out["tables"]["mediation"] = (pd.DataFrame(rows), f"Three-step mediation of {y} through each channel "
                                  "(reported, not tested: b is not identified by the treatment's design)")
    out["notes"].append("Channel -> outcome links (three-step mediation, Sobel s.e.) are reported for the mapped "
                        "channels, not tested: they assume no unobserved channel-outcome confounding (sequential "
                        "ignorability).")
