"""K2: designation also narrows the income gap of neighbouring cities (spatial spillover).

Design: ``econ.did.spatial_did`` with share exposure. ``E_it = (W D_t)_i`` is the share of unit i's neighbours
designated by year t (W row-standardised; units without neighbours have E = 0), and

    y_it = sum_{g,t} tau_gt 1[G_i = g, t] + theta (1 - D_it) E_it + theta_T D_it E_it + a_i + l_t + e_it,

with saturated cohort x year direct effects (extended TWFE, robust to staggered, heterogeneous effects), unit and
year fixed effects, s.e. clustered by unit. ``theta`` ("spillover") is the effect on an UNDESIGNATED unit of going
from no designated neighbour to all neighbours designated: the claim's spillover. ``direct`` is the average direct
effect over treated unit-years at zero exposure; ``theta_T`` the spillover among designated units. The naive TWFE
without exposure terms is reported alongside.

W is the bundled queen contiguity among prefecture-level units, restricted to the panel's units (unit ids must then
be 6-digit prefecture codes), or the user's own weights: ``econ replicate K2 --data panel.csv --map ...
--weights edges.csv``, an edge list (CSV) with columns ``source`` and ``target`` (or exactly two columns) holding
the panel's unit ids, one row per undirected link, optionally a positive ``weight`` column. Edge endpoints that are
not units of the panel are an error naming them; panel units without any link are kept with zero exposure and
named in the notes. The file's SHA-256 is recorded with the results.

Not included: the panel spatial Durbin model's direct/indirect effects (``econ.spatial.fit(..., unit=, time=,
effects="twoways")``) need ``econ.spatial.panel``, which this version of econ does not have.
"""

import hashlib
from pathlib import Path

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
TERMS = ("direct", "spillover", "spillover_treated")
LABELS = {"direct": "direct (treated, zero exposure)", "spillover": "spillover on undesignated units",
          "spillover_treated": "spillover among designated units"}


def run(data=None, out_dir=None, roles=None, weights=None):
    panel = causal_panel(data, roles)
    frame, unit, time = panel.frame.copy(), panel.unit, panel.time
    y, treat, cohort, label = panel.y, panel.treat, panel.cohort, panel.outcome_label
    controls = panel.roles["controls"]
    if weights is not None:
        w, w_info = _user_weights(weights, frame[unit])
        key = unit
    else:
        codes = _codes(frame[unit])
        if not codes.isin(datasets.load_weights("china_prefecture_contiguity").ids).any():
            reason = (f"no unit id in {unit!r} is a 6-digit prefecture code of the bundled contiguity (first ids: "
                      f"{list(pd.unique(frame[unit]))[:3]}): K2's default neighbours are those of Chinese "
                      "prefectures; give your own with --weights edges.csv")
            return {"values": {}, "untestable": {"spillover_effect": reason, "spillover_pvalue_less": reason},
                    "simulated": panel.simulated, "numbers": {}, "notes": [f"Not testable: {reason}."],
                    "seed": panel.seed}
        w = _weights(codes)
        frame[CODE] = codes
        key = CODE
        w_info = {"source": "bundled china_prefecture_contiguity (queen), restricted to the panel's units"}
    frame[SHARE] = w.row_standardize().panel_lag(frame, treat, key, time)

    naive = did.twfe(frame, y, unit, time, treat=treat, covariates=controls)
    model = did.spatial_did(frame, y, key, time, cohort=cohort, W=w, covariates=controls or None)
    islands = list(w.islands)
    numbers = {
        **{t: coef_summary(model, t) for t in TERMS},
        "naive_direct": coef_summary(naive, treat),
        "units": int(frame[unit].nunique()), "islands": len(islands), "links": int(w.matrix.nnz),
        "weights": w_info,
        "mean_share_by_group_last_year": _share_by_group(frame, time, cohort),
    }
    notes = [f"Spillover on undesignated units (all neighbours designated vs none): "
             f"{numbers['spillover']['estimate']:.4f} (s.e. {numbers['spillover']['se']:.4f}); direct effect "
             f"{numbers['direct']['estimate']:.4f} (saturated cohort x year effects, at zero exposure), "
             f"{numbers['naive_direct']['estimate']:.4f} by TWFE without exposure terms.",
             *[f"spatial_did: {n}" for n in model.notes if "unit(s) without neighbours" in n or "left out" in n],
             "The panel spatial Durbin model (direct/indirect effects) is not reported: econ.spatial.panel is not "
             "available in this version of econ."]
    out = {
        "values": {"spillover_effect": numbers["spillover"]["estimate"],
                   "spillover_pvalue_less": one_sided_p(model, "spillover")},
        "simulated": panel.simulated, "numbers": numbers, "seed": panel.seed,
        "tables": {"spillover": (_table(naive, model, treat), "Spatial DiD (econ.did.spatial_did) and TWFE without "
                                                              "exposure terms")},
        "regressions": {"regressions": ([naive, model], ["TWFE", "spatial DiD"],
                                        f"Direct and spillover effects on {label}")},
        "figures": {"neighbour_share": (_figure(frame, time, cohort), "Mean share of neighbours designated, by "
                                                                       "year and group"),
                    "spatial_did": (model.plot()[0], f"Direct and spillover effects on {label} (spatial DiD) with "
                                                     "95% intervals")},
        "notes": notes,
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
                           "china_prefectures), or your own weights with --weights edges.csv")
    return full.subset(ids)


def _user_weights(path, ids: pd.Series):
    """The user's edge list as Weights on the panel's units (ids matched as text), and what to record about it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        edges = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise WeightsError(f"--weights: file {str(path)!r} not found") from None
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise WeightsError(f"--weights: cannot read {str(path)!r} as a CSV edge list: {err}") from None
    cols = list(edges.columns)
    if {"source", "target"} <= set(cols):
        source, target = "source", "target"
    elif len(cols) == 2:
        source, target = cols
    else:
        raise WeightsError(f"--weights {path.name}: an edge list needs columns 'source' and 'target' (optionally "
                           f"'weight'), or exactly two columns; found {cols}")
    if edges.empty:
        raise WeightsError(f"--weights {path.name}: the edge list has no rows")
    for c in (source, target):
        edges[c] = edges[c].str.strip()
    by_text = {str(u).strip(): u for u in pd.unique(ids)}
    named = pd.unique(pd.concat([edges[source], edges[target]]).dropna())
    unknown = [u for u in named if u not in by_text]
    if unknown:
        raise WeightsError(f"--weights {path.name}: {len(unknown)} unit id(s) in the edge list are not units of the "
                           f"panel, first: {unknown[:5]} (the panel's ids look like {list(by_text)[:3]})")
    edges[source], edges[target] = edges[source].map(by_text), edges[target].map(by_text)
    weight = "weight" if "weight" in cols else None
    w = Weights.from_edges(edges, source, target, ids=list(by_text.values()), weight=weight, islands="keep")
    if len(w.islands) == w.n:
        raise WeightsError(f"--weights {path.name}: no edge links two different units of the panel")
    info = {"source": "user edge list", "file": path.name, "sha256": hashlib.sha256(raw).hexdigest(),
            "edges": int(len(edges)), "weight_column": weight or "none (binary)",
            "units_without_links": [str(u) for u in w.islands][:20]}
    return w, info


def _table(naive, model, treat):
    rows = [{"model": "TWFE", "term": treat, **coef_summary(naive, treat), "nobs": int(naive.nobs)}]
    rows += [{"model": "spatial DiD", "term": LABELS[t], **coef_summary(model, t), "nobs": int(model.nobs)}
             for t in TERMS]
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
