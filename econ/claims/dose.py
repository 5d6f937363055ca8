"""K1's dose-response next to its binary estimates (``econ replicate K1 --data ... --map dose=<column>``).

When a user maps a ``dose`` (a treatment intensity fixed within unit, e.g. the share of a province's prefectures
that were designated, or broadband ports per household), K1 also runs the continuous-treatment DiD of Callaway,
Goodman-Bacon and Sant'Anna (:func:`econ.did.cont_did`) on the same panel and reports ATT^o, ACRT^o and the
dose-response curves ATT(d) and ACRT(d) (a table and two figures). The verdict stays about the binary claim (does
designation lower the outcome?): the dose-response answers a different question (does more intensity lower it
more?), and its slope needs a stronger assumption (strong parallel trends: no selection into doses on gains), so
it is reported next to the binary estimates and never counted.

Choices: the comparison group is the never-treated units when there are any, else the lowest-dose units of each
cohort (``control="lowest"``, whose estimand is ``ATT(d) - ATT(d_L)``); a dose with at most
:data:`DISCRETE_MAX_LEVELS` distinct positive values is treated as discrete (one mean per level), otherwise the
dose-response is a cubic polynomial (``method="spline"``, no interior knots). Empty doses of never-treated units
are set to 0 (their dose is not used); the schema (:func:`econ.claims.schema.prepare_panel`) has already refused
negative doses, 0/1 dummies, doses varying within unit and treated units without a positive dose.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DISCRETE_MAX_LEVELS", "DOSE_DRAWS", "dose_response"]

DISCRETE_MAX_LEVELS = 6
DOSE_DRAWS = 999


def dose_response(panel, *, n_draws: int = DOSE_DRAWS, seed: int = 0) -> dict:
    """Run :func:`econ.did.cont_did` on a causal claim's panel with its mapped ``dose``.

    Parameters
    ----------
    panel : econ.claims.causal.CausalPanel
        The prepared user panel; ``panel.roles["dose"]`` names the dose column.
    n_draws : int
        Multiplier-bootstrap draws for the uniform bands over the dose grid (0: pointwise intervals only).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``numbers`` (method, comparison group, dose levels, ATT^o and ACRT^o with standard errors), ``tables``
        (``dose_overall``, ``dose_response``: ``(DataFrame, caption)``), ``figures`` (``dose_att``, ``dose_acrt``:
        ``(Figure, caption)``), ``notes`` (list of str) and ``result`` (the :class:`econ.did.ContDiDResult`).

    Raises
    ------
    econ.errors.EconError
        The errors of :func:`econ.did.cont_did` (e.g. no comparison units).

    Examples
    --------
    >>> from econ.claims.causal import CausalPanel
    >>> from econ.simulate import draw_dose_panel
    >>> sim = draw_dose_panel(n_units=200, seed=1)
    >>> roles = {"unit": "unit", "time": "time", "dose": "dose", "controls": []}
    >>> panel = CausalPanel(sim.data, roles, False, None, None, "y", "treated", "cohort", "y")
    >>> out = dose_response(panel, n_draws=0)
    >>> sorted(out["numbers"]["overall"])
    ['ACRT^o', 'ATT^o']
    """
    from econ import did

    frame, unit, time, cohort, dose = panel.frame, panel.unit, panel.time, panel.cohort, panel.roles["dose"]
    never = (frame[cohort] <= 0).to_numpy()
    work = frame.assign(**{dose: frame[dose].where(~(never & frame[dose].isna().to_numpy()), 0.0)})
    filled = int((never & frame[dose].isna().to_numpy()).sum())
    levels = np.unique(work.loc[~never, dose].to_numpy())
    method = "discrete" if len(levels) <= DISCRETE_MAX_LEVELS else "spline"
    control = "never" if never.any() else "lowest"
    res = did.cont_did(work, panel.y, unit, time, cohort, dose=dose, control=control, method=method,
                       n_draws=n_draws, seed=seed)
    overall = {k: {"estimate": float(res.overall[k]), "se": float(res.overall_se[k])} for k in res.overall}
    numbers = {"column": dose, "method": method, "control": control, "dose_levels": int(len(levels)),
               "dose_range": [float(levels.min()), float(levels.max())], "overall": overall, "n_draws": n_draws,
               "seed": seed}
    label, what = panel.outcome_label, _estimand(control)
    curve = res.tidy("dose")
    curve = curve.loc[:, ["target", "dose", "estimate", "std_error", "conf_low", "conf_high", "uniform_low",
                          "uniform_high"]]
    tables = {
        "dose_overall": (res.tidy("overall"), f"Dose-response DiD on {label} ({dose}): ATT^o (average effect of "
                                              f"the dose received) and ACRT^o (average causal response per unit "
                                              f"of {dose}); {what}"),
        "dose_response": (curve, f"ATT(d) and ACRT(d) of {dose} on {label} on a grid of doses, with pointwise 95% "
                                 "intervals and uniform (sup-t) bands"),
    }
    figures = {}
    for target, name in (("att", "ATT(d)"), ("acrt", "ACRT(d)")):
        fig, ax = res.plot(target=target, uniform=n_draws > 0)
        ax.set_xlabel(dose)
        ax.set_ylabel(f"{name} on {label}")
        figures[f"dose_{target}"] = (fig, f"Dose-response {name} of {dose} on {label} with pointwise 95% intervals"
                                          + (" and the uniform band" if n_draws > 0 else ""))
    att, acrt = overall["ATT^o"], overall["ACRT^o"]
    notes = [f"Dose-response (Callaway, Goodman-Bacon and Sant'Anna 2024; {method}, {what}): ATT^o = "
             f"{att['estimate']:.4f} (s.e. {att['se']:.4f}), ACRT^o = {acrt['estimate']:.4f} (s.e. "
             f"{acrt['se']:.4f}) per unit of {dose} ({len(levels)} dose level(s) in [{levels.min():.4g}, "
             f"{levels.max():.4g}]). Reported next to the binary estimates, not counted in the verdict: ATT^o needs "
             "parallel trends, ACRT^o and the shape of ATT(d) need strong parallel trends (no selection into "
             "doses on gains)."]
    if filled:
        notes.append(f"dose: {filled} empty cell(s) of never-treated units set to 0 (their dose is not used).")
    if panel.roles.get("controls"):
        notes.append("dose: the dose-response DiD is unconditional (cont_did takes no covariates); the mapped "
                     "controls are used by the binary estimators only.")
    notes += [f"cont_did: {n}" for n in res.notes]
    return {"numbers": numbers, "tables": tables, "figures": figures, "notes": notes, "result": res}


def _estimand(control: str) -> str:
    if control == "never":
        return "never-treated comparison units"
    return ("no never-treated units: each cohort's lowest-dose units are the comparison, so the estimates are "
            "ATT(d) - ATT(d_L) over doses above the lowest")
