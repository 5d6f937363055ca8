"""K2: designation also narrows the income gap of neighbouring cities (spatial spillover).

Design: ``y_it = beta D_it + theta S_it + a_i + l_t + e_it`` with ``S_it = (W D_t)_i`` the share of unit i's
contiguous neighbours designated by year t (W = the bundled queen contiguity among prefecture-level units,
restricted to the panel's units, row-standardised; units without land neighbours have S = 0). ``theta`` is the
spillover of going from no designated neighbour to all neighbours designated; ``beta`` is the direct effect net of
the unit's own exposure. Estimated by ``econ.did.twfe`` with S as a covariate, s.e. clustered by unit; the naive
TWFE without S is reported alongside. Requires a balanced panel whose unit ids are 6-digit prefecture codes.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from econ import datasets, did  # noqa: E402
from econ.claims.causal import causal_panel, coef_summary, one_sided_p, standardized_error  # noqa: E402
from econ.errors import WeightsError  # noqa: E402
from econ.spatial import Weights  # noqa: E402

SHARE = "designated_neighbour_share"
CODE = "prefecture_code_6"


def run(data=None, out_dir=None, roles=None):
    panel = causal_panel(data, roles)
    frame, unit, time = panel.frame.copy(), panel.unit, panel.time
    y, treat, cohort, label = panel.y, panel.treat, panel.cohort, panel.outcome_label
    controls = panel.roles["controls"]
    codes = _codes(frame[unit])
    if not codes.isin(datasets.load_weights("china_prefecture_contiguity").ids).any():
        reason = (f"no unit id in {unit!r} is a 6-digit prefecture code of the bundled contiguity (first ids: "
                  f"{list(pd.unique(frame[unit]))[:3]}): K2's neighbours are those of Chinese prefectures")
        return {"values": {}, "untestable": {"spillover_effect": reason, "spillover_pvalue_less": reason},
                "simulated": panel.simulated, "numbers": {}, "notes": [f"Not testable: {reason}."],
                "seed": panel.seed}
    w = _weights(codes)
    frame[CODE] = codes
    frame[SHARE] = w.panel_lag(frame, treat, CODE, time)

    naive = did.twfe(frame, y, unit, time, treat, covariates=controls)
    model = did.twfe(frame, y, unit, time, treat, covariates=[SHARE, *controls])
    numbers = {
        "direct": coef_summary(model, treat), "spillover": coef_summary(model, SHARE),
        "naive_direct": coef_summary(naive, treat),
        "units": int(frame[unit].nunique()), "islands": len(w.islands),
        "mean_share_by_group_last_year": _share_by_group(frame, time, cohort),
    }
    out = {
        "values": {"spillover_effect": numbers["spillover"]["estimate"],
                   "spillover_pvalue_less": one_sided_p(model, SHARE)},
        "simulated": panel.simulated, "numbers": numbers, "seed": panel.seed,
        "tables": {"spillover": (_table(naive, model), "TWFE with and without the designated-neighbour share")},
        "regressions": {"regressions": ([naive, model], ["TWFE", "TWFE + neighbour share"],
                                        f"Direct and spillover effects on {label}")},
        "figures": {"neighbour_share": (_figure(frame, time, cohort), "Mean share of contiguous neighbours "
                                                                       "treated, by year and group")},
        "notes": [f"Spillover (all neighbours designated vs none): {numbers['spillover']['estimate']:.4f} "
                  f"(s.e. {numbers['spillover']['se']:.4f}); direct effect {numbers['direct']['estimate']:.4f} "
                  "with the "
                  f"spillover term, {numbers['naive_direct']['estimate']:.4f} without it."],
    }
    if panel.simulated:
        att_overall = float(panel.truth["att_overall"])
        truth = float(panel.truth["spillover_log_ratio"])
        out["pipeline_values"] = {
            "spillover_error": standardized_error(numbers["spillover"]["estimate"], truth, numbers["spillover"]["se"]),
            "direct_effect_error": standardized_error(numbers["direct"]["estimate"], att_overall,
                                                      numbers["direct"]["se"]),
        }
        numbers["truth"] = {"spillover": truth, "att_overall": att_overall}
    return out


def _codes(ids: pd.Series) -> pd.Series:
    """Unit ids as 6-digit code strings (integers such as 110000 accepted)."""
    if pd.api.types.is_numeric_dtype(ids):
        return ids.astype("int64").astype(str).str.zfill(6)
    return ids.astype(str).str.strip()


def _weights(codes: pd.Series) -> Weights:
    full = datasets.load_weights("china_prefecture_contiguity")
    ids = sorted(pd.unique(codes))
    known = set(full.ids)
    unknown = [c for c in ids if c not in known]
    if unknown:
        raise WeightsError(f"{len(unknown)} unit id(s) are not 6-digit prefecture codes of the bundled contiguity, "
                           f"first: {unknown[:5]}; K2 needs units keyed by prefecture code (see econ data show "
                           "china_prefectures)")
    return full.subset(ids).row_standardize()


def _table(naive, model):
    rows = []
    for label, res in (("TWFE", naive), ("TWFE + neighbour share", model)):
        for term in res.coef.index:
            rows.append({"model": label, "term": term, **coef_summary(res, term), "nobs": int(res.nobs)})
    return pd.DataFrame(rows)


def _share_by_group(frame, time, cohort):
    last = frame[frame[time] == frame[time].max()]
    group = (last[cohort] > 0).map({True: "designated", False: "never designated"})
    return {k: float(v) for k, v in last.groupby(group)[SHARE].mean().items()}


def _figure(frame, time, cohort):
    group = (frame[cohort] > 0).map({True: "designated units", False: "never-designated units"})
    mean = frame.groupby([time, group])[SHARE].mean().unstack()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    mean.plot(ax=ax, marker="o", ms=3)
    ax.set_ylabel("share of neighbours designated")
    ax.set_xlabel(time)
    ax.set_title("Exposure to designated neighbours", fontsize=9)
    ax.legend(fontsize=8, title=None)
    return fig
