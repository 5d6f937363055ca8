"""Shared plumbing of the causal claim scripts (K1-K4): which panel to use, and how to read it.

Without ``data`` a script runs on the bundled SIMULATED demonstration panel (``econ.simulate.china_cities_demo``)
and gets its truth; with ``data`` it runs on a user panel prepared by :func:`econ.claims.schema.prepare_panel`.
Estimation itself is always done by ``econ.did`` -- nothing is re-implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from econ.claims import schema

__all__ = ["CausalPanel", "causal_panel", "not_mapped", "coef_summary", "one_sided_p", "true_effects",
           "standardized_error"]


@dataclass
class CausalPanel:
    frame: pd.DataFrame
    roles: dict
    simulated: bool
    truth: dict | None
    seed: int | None
    y: str = "log_income_ratio"          # outcome column
    treat: str = "treated"               # 0/1 treatment column
    cohort: str = "cohort"               # cohort column (int, 0 = never)
    outcome_label: str = "log(urban/rural income)"  # how tables, captions and axes name the outcome

    @property
    def unit(self) -> str:
        return self.roles["unit"]

    @property
    def time(self) -> str:
        return self.roles["time"]


def causal_panel(data=None, roles=None, uses=()) -> CausalPanel:
    """The user's panel (validated by :func:`econ.claims.schema.prepare_panel`; the user's column names are kept)
    or the bundled SIMULATED demonstration panel with its truth.

    ``roles`` for a user panel are exactly those mapped (:func:`econ.claims.schema.user_roles`): a role that is
    None was not mapped, and the claim reports the checks needing it as not testable. ``uses`` names the K1-only
    roles (``dose``, ``group``, ``cluster``) the calling claim handles; any other of them that is mapped is a
    ``SpecificationError`` (a claim never silently ignores a mapped column).
    """
    if data is None:
        from econ.simulate import DEMO_SEED, china_cities_demo

        demo = china_cities_demo()
        return CausalPanel(demo.data, schema.resolve_roles(None), True, demo.truth, DEMO_SEED)
    roles = schema.user_roles(roles)
    ignored = [f"{r}={roles[r]}" for r in schema.K1_ONLY_ROLES if roles.get(r) and r not in uses]
    if ignored:
        from econ.errors import SpecificationError

        raise SpecificationError(f"--map {', '.join(ignored)}: these roles are used by K1 only (dose-response, "
                                 "household triple difference); run this claim without them")
    prep = schema.prepare_panel(data, roles)
    return CausalPanel(prep.frame, roles, False, None, None, prep.y, prep.treat, prep.cohort, prep.outcome_label)


def not_mapped(role: str) -> str:
    """The reason a check needing ``role`` is not testable on a user panel."""
    return f"role {role!r} is not mapped (add --map {role}=<column> to test it)"


def coef_summary(result, term: str) -> dict:
    """A term's estimate, standard error and two-sided p-value as plain floats."""
    return {"estimate": float(result.coef[term]), "se": float(result.se[term]), "pvalue": float(result.pvalue[term])}


def one_sided_p(result, term: str, alternative: str = "less") -> float:
    """One-sided p-value from a result's two-sided p-value (symmetric t or normal reference distribution)."""
    p, t = float(result.pvalue[term]), float(result.tstat[term])
    if alternative == "less":
        return p / 2 if t < 0 else 1 - p / 2
    return p / 2 if t > 0 else 1 - p / 2


def true_effects(panel: CausalPanel) -> pd.Series:
    """The planted direct effect on log_income_ratio for every row of the simulated panel (0 when untreated)."""
    att = pd.DataFrame(panel.truth["att_gt"])[["cohort", "year", "att"]]
    keys = panel.frame[[panel.cohort, panel.time]].rename(columns={panel.time: "year", panel.cohort: "cohort"})
    merged = keys.merge(att, on=["cohort", "year"], how="left")
    return pd.Series(merged["att"].fillna(0.0).to_numpy(), index=panel.frame.index, name="true_att")


def standardized_error(estimate: float, truth: float, se: float) -> float:
    """|estimate - truth| / se: how many standard errors the estimate misses the truth by."""
    return float(abs(estimate - truth) / se) if se > 0 else float(np.inf)
