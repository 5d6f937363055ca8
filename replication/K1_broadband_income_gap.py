"""K1: Broadband China designation narrows the urban-rural income gap.

Design (staggered DiD, outcome log(urban/rural income), unit and year fixed effects, s.e. clustered by unit):

1. TWFE: ``y_it = beta D_it + a_i + l_t + e_it`` (``econ.did.twfe``);
2. event study, window -6..6 with binned end points, reference -1, and the joint pre-trend test
   (``econ.did.event_study``);
3. randomization inference: 999 reassignments of the real cohorts across units (``econ.did.placebo``);
4. PSM-DiD: nearest-neighbour matching (with replacement) on pre-period covariates, then the weighted TWFE
   (``econ.did.psm_did``). For a staggered design the "post" dummy of a treated unit switches on at its own cohort,
   that of a never-designated unit at the first cohort, so ``treat x post`` equals the designation dummy;
5. heterogeneity-robust estimators next to TWFE (``econ.did.compare``): Callaway-Sant'Anna (``econ.did.att_gt``,
   doubly robust, NEVER-treated units as controls -- the Broadband China design and mpdta both have a large
   never-designated group, and never-treated controls keep the comparison group fixed across cohorts and event
   times, so the event-time path is not a mix of control groups; its overall ATT is the simple aggregation),
   Sun-Abraham and the imputation estimator (Borusyak-Jaravel-Spiess; overall ATT = mean effect over treated
   observations), with their event-time paths, and the Goodman-Bacon decomposition of the static TWFE
   coefficient, whose weight on "forbidden" comparisons (later- vs earlier-treated, already-treated units as
   controls) says how much TWFE leans on them. A panel without never-treated units gets no CS / Sun-Abraham
   (noted; imputation and Bacon still run). On a user panel every estimator uses the user's mapped columns.

Checks: the PRIMARY check is the heterogeneity-robust Callaway-Sant'Anna overall ATT (its sign and one-sided
p-value, normal reference); TWFE, its placebo, PSM-DiD and imputation are comparisons (supporting checks), and the
pre-trend test is reported but never counted (not rejecting parallel pre-trends is no evidence that they hold). On a
user's file every label comes from the user's columns and the verdict says only whether the estimate on that file
goes in the claim's direction (econ.claims.verdict).

On a user's file, ``--map dose=<column>`` adds the dose-response DiD (``econ.claims.dose``: ATT^o, ACRT^o, ATT(d) and
ACRT(d), a table and two figures) next to the binary estimates; the verdict stays about the binary claim. ``--map
group=<column>`` (0/1, 1 = rural) reads the file as household microdata and runs the staggered triple difference
instead (``econ.claims.household``): the primary checks then take its effect on the urban-rural gap.

On the bundled simulated panel the claim is not testable; the pipeline checks compare the estimates with the
planted truth: event-time effects with the true ATT by event time, TWFE and PSM-DiD with the true average ATT over
treated unit-years (in standard errors), the pre-trend test with a design that has parallel trends, and the
placebo p-value with a design that has a true effect.
"""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from econ import did  # noqa: E402
from econ.claims.causal import (  # noqa: E402
    causal_panel, coef_summary, not_mapped, one_sided_p, standardized_error, true_effects)
from econ.claims.dose import DOSE_DRAWS, dose_response  # noqa: E402
from econ.claims.household import household_k1  # noqa: E402

WINDOW = (-6, 6)
PLACEBO_DRAWS = 999
PLACEBO_SEED = 1
COMPARED_EVENT_TIMES = range(0, 6)
COMPARE_WINDOW = (-5, 5)
ROBUST = {"cs": "Callaway-Sant'Anna (never-treated controls)", "sa": "Sun-Abraham", "imputation": "imputation (BJS)",
          "twfe": "TWFE"}


def run(data=None, out_dir=None, roles=None, placebo_draws=PLACEBO_DRAWS, dose_draws=DOSE_DRAWS):
    panel = causal_panel(data, roles, uses=("dose", "group", "cluster", "sampling_weight"))
    if panel.roles.get("group"):  # household microdata: the triple difference on the urban-rural gap
        return household_k1(panel)
    frame, unit, time = panel.frame, panel.unit, panel.time
    y, treat, cohort, label = panel.y, panel.treat, panel.cohort, panel.outcome_label
    controls = panel.roles["controls"]

    twfe = did.twfe(frame, y, unit, time, treat=treat, covariates=controls)
    es = did.event_study(frame, y, unit, time, cohort, window=_window(frame, time, cohort), covariates=controls)
    pretrend = es.pretrend_test()
    placebo = did.placebo(frame, y, unit, time, cohort=cohort, n_draws=placebo_draws, seed=PLACEBO_SEED,
                          covariates=controls, progress=False)
    psm = _psm(frame, y, unit, time, cohort, panel.roles) if panel.roles["psm_covariates"] else None

    robust = _robust(frame, y, unit, time, cohort, controls)
    table = es.table()
    numbers = {
        "twfe": {**coef_summary(twfe, treat), "pvalue_less": one_sided_p(twfe, treat), "nobs": int(twfe.nobs)},
        "event_study": {str(k): {"estimate": float(r["estimate"]), "se": float(r["se"])}
                        for k, r in table.iterrows() if not r["is_ref"]},
        "pretrend": {"F": float(pretrend.F), "df1": int(pretrend.df), "df2": float(pretrend.df2),
                     "pvalue": float(pretrend.pvalue_F)},
        "placebo": {"estimate": placebo.estimate, "pvalue": placebo.pvalue, "pvalue_less": placebo.pvalue_less,
                    "draws_sd": float(placebo.draws.std(ddof=1)), "n_draws": placebo.n, "seed": PLACEBO_SEED},
        "units": int(frame[unit].nunique()), "years": [int(frame[time].min()), int(frame[time].max())],
        "treated_units": int(frame.loc[frame[cohort] > 0, unit].nunique()),
    }
    b, se = numbers["twfe"]["estimate"], numbers["twfe"]["se"]
    values = {"twfe_effect": b, "twfe_pvalue_less": numbers["twfe"]["pvalue_less"],
              "pretrend_pvalue": numbers["pretrend"]["pvalue"], "placebo_pvalue_less": placebo.pvalue_less}
    untestable = {}
    numbers["robust"] = robust["numbers"]
    for name in ("cs", "imputation"):
        check = f"{name}_effect"
        if name in robust["numbers"]["overall"]:
            values[check] = robust["numbers"]["overall"][name]["estimate"]
        else:
            untestable[check] = robust["missing"].get(name, f"{name} not estimated")
    if "cs" in robust["numbers"]["overall"]:
        cs = robust["numbers"]["overall"]["cs"]
        cs["pvalue_less"] = float(stats.norm.cdf(cs["estimate"] / cs["se"])) if cs["se"] > 0 else float("nan")
        values["cs_pvalue_less"] = cs["pvalue_less"]
    else:
        untestable["cs_pvalue_less"] = untestable["cs_effect"] + " (see imputation_effect)"
    tables = {
        "event_study": (table.reset_index(), f"Event-study coefficients on {label}"),
        "estimates": (_estimates_table(twfe, treat, psm, placebo), f"Average effect of treatment on {label}: TWFE"
                      + (", PSM-DiD" if psm is not None else "") + " and randomization inference"),
    }
    models, names = [twfe], ["TWFE"]
    if psm is not None:
        numbers["psm"] = {"estimate": float(psm.coef[psm.term]), "se": float(psm.se[psm.term]),
                          "matched_units": int(len(psm.weights))}
        values["psm_effect"] = numbers["psm"]["estimate"]
        tables["psm_balance"] = (psm.balance.reset_index(), "Covariate balance before and after matching")
        models, names = [twfe, psm], ["TWFE", "PSM-DiD"]
    else:
        untestable["psm_effect"] = not_mapped("psm_covariates")
    fig_es, ax_es = es.plot()
    ax_es.set_ylabel(f"Effect on {label}")
    fig_pl, ax_pl = placebo.plot()
    ax_pl.set_xlabel(f"TWFE estimate on {label} under reassigned cohorts")
    out = {
        "values": values, "untestable": untestable, "simulated": panel.simulated, "numbers": numbers,
        "seed": panel.seed, "tables": tables,
        "regressions": {"regressions": (models, names, f"{' and '.join(names)} regressions of {label}")},
        "figures": {"comparison": (robust["figure"], f"Event-time paths of TWFE, Callaway-Sant'Anna, Sun-Abraham "
                                                     f"and imputation estimates on {label} with pointwise 95% "
                                                     "intervals; the legend gives each overall ATT"),
                    "bacon": (robust["bacon_figure"], "Goodman-Bacon decomposition of the static TWFE coefficient: "
                                                      "each 2x2 comparison's estimate against its weight"),
                    "event_study": (fig_es, f"Event-study coefficients on {label} with pointwise 95% intervals "
                                            "and the uniform sup-t band"),
                    "placebo": (fig_pl, f"Randomization distribution of the TWFE estimate on {label} under "
                                        "reassigned cohorts, with the actual estimate")},
        "notes": [_primary_note(numbers, label),
                  f"TWFE effect of {treat} on {label} (comparison): {b:.4f} (s.e. {se:.4f}); event-study "
                  f"pre-trend test p = {numbers['pretrend']['pvalue']:.3f}; placebo p (one-sided) = "
                  f"{placebo.pvalue_less:.3f} from {placebo.n} reassignments; "
                  + (f"PSM-DiD {numbers['psm']['estimate']:.4f}." if psm is not None
                     else "PSM-DiD not run: " + untestable["psm_effect"] + "."),
                  robust["note"], *robust["notes"]],
    }
    tables["robust_overall"] = (robust["overall"], f"Overall ATT on {label}: TWFE and the heterogeneity-robust "
                                                    "estimators (each with its own weights, see definition)")
    tables["robust_paths"] = (robust["paths"], f"Event-time estimates on {label} by estimator")
    tables["bacon"] = (robust["bacon_table"], "Goodman-Bacon decomposition of the static TWFE coefficient by "
                                              "comparison type (weight and weighted-average 2x2 estimate)")
    if panel.roles.get("dose"):  # reported next to the binary estimates; the verdict stays about the binary claim
        dose = dose_response(panel, n_draws=dose_draws)
        numbers["dose"] = dose["numbers"]
        tables.update(dose["tables"])
        out["figures"].update(dose["figures"])
        out["notes"] += dose["notes"]
    if panel.simulated:
        out["pipeline_values"], out["numbers"]["truth"] = _pipeline(panel, numbers, table)
    return out


def _primary_note(numbers, label):
    """The primary estimate on the panel: direction, size and uncertainty, in the panel's own names."""
    cs = numbers["robust"]["overall"].get("cs")
    if cs is None:
        return "Primary check not computed: Callaway-Sant'Anna needs never-treated units; see the imputation ATT."
    z = stats.norm.ppf(0.975)
    lo, hi = cs["estimate"] - z * cs["se"], cs["estimate"] + z * cs["se"]
    side = "negative (the claim's direction)" if cs["estimate"] < 0 else "not negative (against the claim's direction)"
    return (f"Primary: Callaway-Sant'Anna overall ATT of treatment on {label} = {cs['estimate']:.4f} (s.e. "
            f"{cs['se']:.4f}, 95% CI [{lo:.4f}, {hi:.4f}], one-sided p = {cs['pvalue_less']:.4f}): {side}. "
            f"Pre-trend test p = {numbers['pretrend']['pvalue']:.3f} (reported: not rejecting is no evidence of "
            "parallel trends).")


def _robust(frame, y, unit, time, cohort, controls):
    """TWFE next to the heterogeneity-robust estimators (econ.did.compare) and the Bacon decomposition."""
    never = bool((frame[cohort] <= 0).any())
    names = ("twfe", "cs", "sa", "imputation") if never else ("twfe", "imputation")
    missing, notes = {}, []
    if not never:
        missing["cs"] = ("no never-treated unit in the panel: Callaway-Sant'Anna with never-treated controls (and "
                         "Sun-Abraham) are not estimated")
        notes.append(missing["cs"] + ".")
    cmp = did.compare(frame, y, unit, time, cohort, estimators=names, window=COMPARE_WINDOW,
                      covariates=controls or None)
    notes += [f"compare: {n}" for n in cmp.notes]
    overall = cmp.overall()
    paths = cmp.tidy()
    bac = did.bacon(frame, y, unit, time, cohort)
    by_type = bac.by_type()
    numbers = {
        "control_group": "never-treated" if never else "none (CS not estimated)",
        "window": list(COMPARE_WINDOW),
        "overall": {r["estimator"]: {"estimate": float(r["estimate"]), "se": float(r["std_error"])}
                    for _, r in overall.iterrows()},
        "paths": {name: {str(int(r["event_time"])): {"estimate": float(r["estimate"]), "se": float(r["std_error"])}
                         for _, r in part.iterrows()}
                  for name, part in paths.groupby("estimator", sort=False)},
        "bacon": {"forbidden_share": bac.forbidden_share, "twfe": bac.twfe,
                  "by_type": {t: {"weight": float(r["weight"]), "estimate": float(r["estimate"])}
                              for t, r in by_type.iterrows()}},
    }
    fig, ax = cmp.plot()
    fig_b, _ = bac.plot()
    parts = [f"{ROBUST[k]} {v['estimate']:.4f} (s.e. {v['se']:.4f})" for k, v in numbers["overall"].items()]
    note = ("Overall ATT: " + "; ".join(parts) + f". Goodman-Bacon: {bac.forbidden_share:.1%} of the static TWFE "
            "weight is on later- vs earlier-treated comparisons (already-treated units as controls).")
    overall = overall.assign(estimator=overall["estimator"].map(ROBUST))
    paths = paths.assign(estimator=paths["estimator"].map(ROBUST))
    return {"numbers": numbers, "overall": overall, "paths": paths, "figure": fig, "bacon_figure": fig_b,
            "bacon_table": by_type.reset_index(), "note": note, "notes": notes, "missing": missing}


def _window(frame, time, cohort):
    """The default window, shrunk to what the panel can show."""
    treated = frame[cohort] > 0
    rel = (frame.loc[treated, time] - frame.loc[treated, cohort])
    return max(WINDOW[0], int(rel.min())), min(WINDOW[1], int(rel.max()))


GROUP, POST = "ever_treated", "post_period"  # readable names: the PSM-DiD term is "ever_treated_x_post_period"


def _psm(frame, y, unit, time, cohort, roles):
    work = frame.copy()
    work[GROUP] = (work[cohort] > 0).astype(int)
    first = int(work.loc[work[cohort] > 0, cohort].min())
    start = np.where(work[cohort] > 0, work[cohort], first)
    work[POST] = (work[time] >= start).astype(int)
    return did.psm_did(work, y, unit, time, GROUP, POST, roles["psm_covariates"], controls=roles["controls"])


def _estimates_table(twfe, treat, psm, placebo):
    rows = [{"estimator": "TWFE", **coef_summary(twfe, treat), "nobs": int(twfe.nobs)}]
    if psm is not None:
        rows.append({"estimator": "PSM-DiD", **coef_summary(psm, psm.term), "nobs": int(psm.nobs)})
    rows.append({"estimator": f"placebo ({placebo.n} draws; se = sd of draws)", "estimate": placebo.estimate,
                 "se": float(placebo.draws.std(ddof=1)), "pvalue": placebo.pvalue, "nobs": placebo.nobs})
    return pd.DataFrame(rows)


def _pipeline(panel, numbers, table):
    truth = panel.truth
    att = true_effects(panel)
    att_overall = float(truth["att_overall"])
    by_event = {int(k): v for k, v in truth["att_by_event_time"].items()}
    errors = {k: standardized_error(table.at[k, "estimate"], by_event[k], table.at[k, "se"])
              for k in COMPARED_EVENT_TIMES}
    # what TWFE's own weighting does to the true effects (no noise): the estimand it targets here
    twfe_of_truth = float(did.twfe(panel.frame.assign(true_att=att), "true_att", panel.unit, panel.time,
                                   treat=panel.treat).coef[panel.treat])
    values = {
        "event_time_effects": max(errors.values()),
        "pretrend_not_rejected": numbers["pretrend"]["pvalue"],
        "placebo_detects_effect": numbers["placebo"]["pvalue_less"],
        "twfe_effect_error": standardized_error(numbers["twfe"]["estimate"], att_overall, numbers["twfe"]["se"]),
        "psm_effect_error": standardized_error(numbers["psm"]["estimate"], att_overall, numbers["psm"]["se"]),
    }
    for name in ("cs", "imputation"):  # both target the mean effect over treated unit-years
        est = numbers["robust"]["overall"][name]
        values[f"{name}_effect_error"] = standardized_error(est["estimate"], att_overall, est["se"])
    recorded = {"att_overall": att_overall, "att_by_event_time": {str(k): by_event[k] for k in COMPARED_EVENT_TIMES},
                "event_time_z": {str(k): v for k, v in errors.items()}, "twfe_of_true_effects": twfe_of_truth}
    return values, recorded
