"""The panel schema the causal claims (K1-K4) accept, and ``--map role=column`` parsing.

A user panel is one row per unit and year. Columns are referred to by *role*; each role has a default column
name (the names of the bundled demonstration panel), overridden with ``--map role=column,...``. Roles taking
several columns join them with ``+`` (``--map controls=log_gdp_pc+urbanization_rate``).

=================  =========================================================================  ====================
role               meaning                                                                    default column
=================  =========================================================================  ====================
unit               unit id; for K2 the 6-digit prefecture code (matched to the contiguity)   prefecture_code
time               year (integer)                                                             year
cohort             first year the unit was designated; 0 or empty = never                     cohort
treated            alternative to cohort: 0/1 designation dummy (absorbing)                   treated
outcome            log(urban / rural per-capita income)                                       log_income_ratio
urban_income       used with rural_income when the outcome column is absent                   urban_income
rural_income       (the outcome is then computed as log(urban / rural))                       rural_income
region             East / Central / West (K3)                                                 region
firms              K4 channel: new firms per 10,000 people (entrepreneurship)                 new_firms_per_10k
nonfarm            K4 channel: rural non-farm employment share                                rural_nonfarm_share
public_services    K4 channel: public service index                                           public_service_index
controls           time-varying controls added to every regression, ``+``-separated           (none)
psm_covariates     pre-period covariates for the propensity score (K1), ``+``-separated       pre_log_gdp_pc
=================  =========================================================================  ====================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ.errors import PanelError, SpecificationError

__all__ = ["DEFAULT_ROLES", "LIST_ROLES", "CHANNEL_ROLES", "parse_map", "resolve_roles", "prepare_panel"]

DEFAULT_ROLES = {
    "unit": "prefecture_code",
    "time": "year",
    "cohort": "cohort",
    "treated": "treated",
    "outcome": "log_income_ratio",
    "urban_income": "urban_income",
    "rural_income": "rural_income",
    "region": "region",
    "firms": "new_firms_per_10k",
    "nonfarm": "rural_nonfarm_share",
    "public_services": "public_service_index",
    "controls": [],
    "psm_covariates": ["pre_log_gdp_pc"],
}
LIST_ROLES = ("controls", "psm_covariates")
CHANNEL_ROLES = ("firms", "nonfarm", "public_services")


def parse_map(text: str | None) -> dict:
    """``"unit=city_code,time=year,controls=a+b"`` -> ``{"unit": "city_code", "time": "year",
    "controls": ["a", "b"]}``."""
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise SpecificationError(f"--map entry {item!r} is not role=column (e.g. unit=city_code)")
        role, column = (s.strip() for s in item.split("=", 1))
        if role not in DEFAULT_ROLES:
            raise SpecificationError(f"--map: unknown role {role!r}; roles are {', '.join(DEFAULT_ROLES)}")
        if not column:
            raise SpecificationError(f"--map: role {role!r} has an empty column name")
        out[role] = [c for c in column.split("+") if c] if role in LIST_ROLES else column
    return out


def resolve_roles(mapping: dict | None) -> dict:
    roles = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULT_ROLES.items()}
    roles.update(mapping or {})
    return roles


def prepare_panel(data: pd.DataFrame, roles: dict, needs=("outcome",)) -> pd.DataFrame:
    """Validate a user panel for a causal claim and return a copy with a ``cohort`` and an ``outcome`` column.

    ``needs`` lists the roles the claim requires beyond unit/time/treatment: "outcome", "region". Channel columns
    (K4) are optional: a channel missing from the data is reported as not testable by the claim script.
    The returned frame keeps the user's columns and adds canonical ones: ``cohort`` (int, 0 = never),
    ``treated`` (0/1) and, when needed, ``log_income_ratio`` (the outcome).
    """
    from econ.io import validate_panel

    unit, time = roles["unit"], roles["time"]
    frame = validate_panel(data, unit, time)
    frame = _with_cohort(frame, roles)
    if "outcome" in needs:
        frame["log_income_ratio"] = _outcome(frame, roles)
    if "region" in needs and roles["region"] not in frame.columns:
        raise SpecificationError(f"region column {roles['region']!r} not in the data; map it with "
                                 f"--map region=<column>")
    for role in LIST_ROLES:
        missing = [c for c in roles[role] if c not in frame.columns]
        if missing and (role == "controls" or "psm" in needs):
            raise SpecificationError(f"{role} column(s) {missing} not in the data; available: {list(frame.columns)}")
    return frame


def _with_cohort(frame: pd.DataFrame, roles: dict) -> pd.DataFrame:
    unit, time, cohort, treated = roles["unit"], roles["time"], roles["cohort"], roles["treated"]
    if cohort in frame.columns:
        from econ.did._design import NEVER, unit_cohorts  # the package's one cohort parser

        per_unit = unit_cohorts(frame, unit, time, cohort)
        frame["cohort"] = frame[unit].map(per_unit.where(per_unit != NEVER, 0)).astype("int64")
    elif treated in frame.columns:
        d = pd.to_numeric(frame[treated], errors="coerce")
        if not d.isin([0, 1]).all():
            raise PanelError(f"treatment column {treated!r} must be 0/1 in every row")
        first = frame.loc[d == 1].groupby(unit)[time].min()
        frame["cohort"] = frame[unit].map(first).fillna(0).astype("int64")
    else:
        raise SpecificationError(f"neither a cohort column {cohort!r} nor a treatment column {treated!r} is in "
                                 "the data; map one with --map cohort=<column> or --map treated=<column>")
    frame["treated"] = ((frame["cohort"] > 0) & (frame[time] >= frame["cohort"])).astype("int64")
    if frame["treated"].nunique() < 2:
        raise PanelError("no variation in designation: every row is " + ("treated" if frame["treated"].iat[0]
                                                                          else "untreated"))
    return frame


def _outcome(frame: pd.DataFrame, roles: dict) -> pd.Series:
    if roles["outcome"] in frame.columns:
        return pd.to_numeric(frame[roles["outcome"]], errors="raise").astype(float)
    urban, rural = roles["urban_income"], roles["rural_income"]
    if urban in frame.columns and rural in frame.columns:
        u, r = frame[urban].astype(float), frame[rural].astype(float)
        bad = frame.index[(u <= 0) | (r <= 0)]
        if len(bad):
            raise PanelError(f"urban/rural income must be positive to take logs; rows {list(bad[:5])} are not")
        return np.log(u / r)
    raise SpecificationError(
        f"no outcome: column {roles['outcome']!r} is absent and so is the pair {urban!r}/{rural!r}; map one with "
        "--map outcome=<log ratio column> or --map urban_income=<col>,rural_income=<col>")
