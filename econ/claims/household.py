"""K1 on household microdata: the staggered triple difference, rural x designated x after (``--map group=...``).

A household file has one row per household and survey year, the designation year of the household's prefecture
(``cohort`` or ``treated``), the household outcome (``outcome``, e.g. log per-capita income) and the eligible
subgroup (``group``: 1 = rural, 0 = urban). K1 then runs :func:`econ.did.ddd_gt` (Ortiz-Villavicencio and
Sant'Anna 2025; doubly robust, never-treated comparison prefectures, or not-yet-treated ones when none is never
designated): the effect of designation on rural households *relative to* urban households in the same places, which
differences out anything designation does to both (e.g. designated prefectures growing faster).

The claim is about the urban-rural gap, so K1's primary checks (``cs_effect``, ``cs_pvalue_less``) take the
**gap effect**: minus the rural households' triple-difference ATT (simple aggregation), the effect of designation on
the mean log urban-minus-rural income gap. Designation narrows the gap when rural households gain relative to urban
ones, i.e. when the gap effect is negative -- the same direction as K1's city-level outcome log(urban/rural).

Sample design, read from the data (nothing to choose): every ``unit`` id appears in one year only -> repeated
cross-sections (``panel=False``: each row its own draw); every unit observed in every year -> a balanced panel
(``panel=True``: each household differenced against itself); units that repeat but not in every year -> an
unbalanced panel, estimated as repeated cross-sections with standard errors clustered by household (as R ``did``
does with ``allow_unbalanced_panel``). Standard errors are clustered by ``cluster`` when it is mapped (the
prefecture: designation is assigned to prefectures), else by household; the notes say which. A mapped
``sampling_weight`` (the survey's weight, fixed within household) weights every 2x2 comparison; unmapped, the
estimate is unweighted (the sample's households count equally).
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

__all__ = ["sample_design", "household_k1"]

_NOT_RUN = ("household design (group mapped): K1 estimates the staggered triple difference on the urban-rural gap "
            "(see cs_effect); {what} is a city-panel estimator and is not run on household microdata")


def sample_design(frame: pd.DataFrame, unit: str, time: str) -> str:
    """How the household file was sampled: ``"rcs"``, ``"panel"`` or ``"unbalanced"``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The household file (unique ``(unit, time)`` keys).
    unit, time : str
        Household id and survey year columns.

    Returns
    -------
    str
        ``"rcs"`` when no unit appears twice, ``"panel"`` when every unit appears in every year, else
        ``"unbalanced"``.

    Examples
    --------
    >>> import pandas as pd
    >>> sample_design(pd.DataFrame({"hh": [1, 2, 3], "year": [1, 1, 2]}), "hh", "year")
    'rcs'
    >>> sample_design(pd.DataFrame({"hh": [1, 1, 2, 2], "year": [1, 2, 1, 2]}), "hh", "year")
    'panel'
    """
    counts = frame.groupby(unit, sort=False).size()
    if (counts == 1).all():
        return "rcs"
    return "panel" if (counts == frame[time].nunique()).all() else "unbalanced"


def household_k1(panel, *, n_draws: int = 0, seed: int = 0) -> dict:
    """K1's output on household microdata: the triple difference, its gap effect and the checks' values.

    Parameters
    ----------
    panel : econ.claims.causal.CausalPanel
        The prepared household file; ``panel.roles["group"]`` names the 0/1 eligible subgroup (1 = rural), and
        ``panel.roles["cluster"]`` and ``panel.roles["sampling_weight"]`` (optional) the cluster of the standard
        errors and the survey weight.
    n_draws : int
        Multiplier-bootstrap draws (0: analytic influence-function standard errors).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict
        What a claim script returns (:mod:`econ.claims.runner`): ``values`` for ``cs_effect`` (the gap effect),
        ``cs_pvalue_less`` and ``pretrend_pvalue``, ``untestable`` reasons for the city-panel checks, ``numbers``,
        ``tables``, ``figures``, ``notes``.

    Raises
    ------
    econ.errors.EconError
        The errors of :func:`econ.did.ddd_gt`.

    Examples
    --------
    >>> from econ.claims.causal import causal_panel
    >>> from econ.simulate import household_survey
    >>> sim = household_survey(n_prefectures=12, households=8, years=range(2010, 2014), cohorts=(2012,), seed=2)
    >>> roles = {"unit": "household", "time": "year", "cohort": "cohort", "outcome": "log_income",
    ...          "group": "rural"}
    >>> out = household_k1(causal_panel(sim.data, roles, uses=("group",)))
    >>> out["numbers"]["ddd"]["sample"], out["values"]["cs_effect"] < 0
    ('panel', True)
    """
    from econ import did

    frame, unit, time, cohort, y = panel.frame, panel.unit, panel.time, panel.cohort, panel.y
    group, cluster, controls = panel.roles["group"], panel.roles.get("cluster"), panel.roles.get("controls") or []
    weight = panel.roles.get("sampling_weight")
    design = sample_design(frame, unit, time)
    never = bool((frame[cohort] <= 0).any())
    control = "never" if never else "notyet"
    if design == "panel":
        res = did.ddd_gt(frame, y, unit, time, cohort, group, covariates=controls or None, control=control,
                         weights=weight, vcov={"CL1": cluster} if cluster else None, n_draws=n_draws, seed=seed)
    else:  # repeated cross-sections, or an unbalanced panel read as such (rows are draws; cluster by household)
        res = did.ddd_gt(frame, y, unit if design == "rcs" else None, time, cohort, group,
                         covariates=controls or None, control=control, weights=weight, vcov={"CL1": cluster or unit},
                         n_draws=n_draws, seed=seed, panel=False)
    simple, dynamic = res.aggregate("simple"), res.aggregate("dynamic")
    att, se = float(simple.overall_att), float(simple.overall_se)
    gap = -att
    p_less = float(stats.norm.cdf(gap / se)) if se > 0 else float("nan")
    values = {"cs_effect": gap, "cs_pvalue_less": p_less}
    untestable = {name: _NOT_RUN.format(what=what) for name, what in (
        ("twfe_effect", "TWFE"), ("twfe_pvalue_less", "TWFE"), ("placebo_pvalue_less", "the placebo"),
        ("psm_effect", "PSM-DiD"), ("imputation_effect", "the imputation estimator"))}
    try:
        pre = res.pretrend_test()
        values["pretrend_pvalue"] = float(pre.pvalue_chi2)
        pretrend = {"chi2": float(pre.chi2), "df": int(pre.df), "pvalue": float(pre.pvalue_chi2)}
    except Exception as err:  # no pre-treatment cell (e.g. every cohort treated in the second year)
        untestable["pretrend_pvalue"] = f"no pre-treatment triple-difference cell to test ({err})"
        pretrend = None
    z = float(stats.norm.ppf(0.975))
    sample_word = {"rcs": "repeated cross-sections", "panel": "balanced household panel",
                   "unbalanced": "unbalanced household panel, estimated as repeated cross-sections"}[design]
    clustered = cluster or unit
    numbers = {"ddd": {"att_eligible": att, "gap_effect": gap, "se": se, "conf_low": float(gap - z * se),
                       "conf_high": float(gap + z * se), "pvalue_less": p_less, "sample": design, "control": control,
                       "cluster": clustered, "group": group, "sampling_weight": weight},
               "pretrend": pretrend,
               "event_time": {str(int(k)): {"estimate": float(r["estimate"]), "se": float(r["std_error"])}
                              for k, r in zip(dynamic.tidy()["event_time"], dynamic.tidy().to_dict("records"))},
               "rows": int(len(frame)), "units": int(frame[unit].nunique()),
               "eligible_rows": int((frame[group] == 1).sum()),
               "years": [int(frame[time].min()), int(frame[time].max())],
               "treated_rows": int((frame[cohort] > 0).sum())}
    label = panel.outcome_label
    overall = pd.DataFrame([
        {"term": f"ATT of designation on {group} = 1 households relative to {group} = 0 (triple difference)",
         "estimate": att, "std_error": se, "p_value": float(2 * stats.norm.sf(abs(att / se))) if se > 0 else None,
         "conf_low": att - z * se, "conf_high": att + z * se},
        {"term": "effect on the urban-rural gap (= minus the above; negative = gap narrows)", "estimate": gap,
         "std_error": se, "p_value": float(2 * stats.norm.sf(abs(gap / se))) if se > 0 else None,
         "conf_low": gap - z * se, "conf_high": gap + z * se}])
    fig, ax = dynamic.plot()
    ax.set_ylabel(f"Effect on {label}, {group} = 1 relative to {group} = 0")
    side = ("negative: designation narrows the urban-rural gap (the claim's direction)" if gap < 0 else
            "not negative: designation does not narrow the urban-rural gap (against the claim's direction)")
    notes = [f"Primary (household design, {sample_word}): staggered triple difference (rural x designated x after; "
             f"doubly robust, {control}-treated comparison prefectures, s.e. clustered by {clustered}, "
             f"{f'weighted by {weight}' if weight else 'unweighted'}). Effect of "
             f"designation on the urban-rural gap in {label} = {gap:.4f} (s.e. {se:.4f}, 95% CI [{gap - z * se:.4f}, "
             f"{gap + z * se:.4f}], one-sided p = {p_less:.4f}): {side}. The check cs_effect carries this gap "
             "effect (minus the rural households' ATT).",
             *(["standard errors clustered by household: designation is assigned to places, so map the place as "
                "cluster= (e.g. --map cluster=prefecture) for standard errors at that level"] if not cluster else []),
             *[f"ddd_gt: {n}" for n in res.notes]]
    if pretrend is not None:
        notes.append(f"Pre-trend test of the triple-difference cells: p = {pretrend['pvalue']:.3f} (reported: not "
                     "rejecting is no evidence of parallel trends).")
    return {
        "values": values, "untestable": untestable, "simulated": False, "seed": panel.seed,
        "numbers": numbers, "notes": notes,
        "tables": {"ddd_overall": (overall, f"Triple difference on {label}: {group} = 1 vs {group} = 0 households, "
                                            "designated vs comparison places, after vs before"),
                   "ddd_event_study": (dynamic.tidy(), f"Triple-difference effects on {label} by event time "
                                                       f"({group} = 1 relative to {group} = 0)"),
                   "ddd_group_time": (res.tidy(), f"Triple-difference ATT(g, t) on {label} of {group} = 1 "
                                                  "households")},
        "figures": {"ddd_event_study": (fig, f"Triple-difference effects on {label} by event time ({group} = 1 "
                                             f"relative to {group} = 0) with pointwise 95% intervals")},
    }
