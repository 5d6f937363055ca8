"""The panel schema the causal claims (K1-K4) accept, and ``--map role=column`` parsing.

A user panel is one row per unit and year. Columns are referred to by *role*, mapped explicitly with
``--map role=column,...``; nothing is guessed: a role that is not mapped is not used (a check that needs it is
reported as not testable, with the reason), and every mapped column must exist. Roles taking several columns join
them with ``+`` (``--map controls=log_gdp_pc+urbanization_rate``). The bundled SIMULATED demonstration panel uses
the names in the last column.

===============  ===========================================  =================  ====================
role             meaning                                      required?          demo panel column
===============  ===========================================  =================  ====================
unit             unit id; for K2 the 6-digit prefecture code  yes                prefecture_code
time             year (integer)                               yes                year
cohort           first treated year; 0 or empty = never       cohort or treated  cohort
treated          0/1 dummy, absorbing; agrees with cohort     cohort or treated  treated
outcome          the outcome (e.g. log urban/rural income)    outcome or pair    log_income_ratio
urban_income     pair: outcome = log(urban / rural)           outcome or pair    urban_income
rural_income     pair: outcome = log(urban / rural)           outcome or pair    rural_income
region           groups compared by K3                        K3                 region
firms            K4 channel (new firms per 10,000)            K4, optional       new_firms_per_10k
nonfarm          K4 channel (rural non-farm share)            K4, optional       rural_nonfarm_share
public_services  K4 channel (public service index)            K4, optional       public_service_index
controls         controls in every regression, a+b            optional           (none)
psm_covariates   K1 propensity-score covariates, a+b          K1 PSM check       pre_log_gdp_pc
dose             K1: treatment intensity, fixed within unit   optional (K1)      (none)
group            K1: 0/1 eligible subgroup (1 = rural)        household data     (none)
cluster          K1 household design: cluster of the s.e.     optional (group)   (none)
sampling_weight  K1 household design: survey weight           optional (group)   (none)
===============  ===========================================  =================  ====================

``dose`` adds the continuous-treatment DiD (:func:`econ.did.cont_did`) next to K1's binary estimates; ``group``
turns K1 into the staggered triple difference on household microdata (:func:`econ.did.ddd_gt`; rural x designated
x after), whose verdict is about the urban-rural gap (:mod:`econ.claims.household`). Both are K1 only: K2-K4 refuse
them (:func:`econ.claims.causal.causal_panel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from econ.errors import PanelError, SpecificationError

__all__ = ["DEFAULT_ROLES", "LIST_ROLES", "CHANNEL_ROLES", "K1_ONLY_ROLES", "ROLE_HELP", "parse_map", "resolve_roles",
           "user_roles", "read_user_panel", "prepare_panel", "PreparedPanel"]

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
    "dose": None,
    "group": None,
    "cluster": None,
    "sampling_weight": None,
}
LIST_ROLES = ("controls", "psm_covariates")
CHANNEL_ROLES = ("firms", "nonfarm", "public_services")
K1_ONLY_ROLES = ("dose", "group", "cluster", "sampling_weight")
ROLE_HELP = {  # role -> (required?, meaning), for `econ replicate --help`
    "unit": ("required", "unit id (K2: 6-digit prefecture code)"),
    "time": ("required", "year, integer"),
    "cohort": ("required unless treated", "first treated year; 0 or empty = never treated"),
    "treated": ("required unless cohort", "0/1 treatment dummy, absorbing; must agree with cohort if both"),
    "outcome": ("required unless urban_income+rural_income", "the outcome column"),
    "urban_income": ("with rural_income, instead of outcome", "outcome = log(urban_income / rural_income)"),
    "rural_income": ("with urban_income, instead of outcome", ""),
    "region": ("needed by K3", "groups whose effects K3 compares"),
    "firms": ("optional (K4 channel)", "unmapped: that K4 check is not testable"),
    "nonfarm": ("optional (K4 channel)", "unmapped: that K4 check is not testable"),
    "public_services": ("optional (K4 channel)", "unmapped: that K4 check is not testable"),
    "controls": ("optional", "controls in every regression, a+b"),
    "psm_covariates": ("needed by K1's PSM check", "pre-period covariates of the propensity score, a+b"),
    "dose": ("optional (K1)", "treatment intensity, >= 0, fixed within unit, several positive values (not a "
             "0/1 dummy): adds the dose-response DiD (ATT^o, ACRT^o, ATT(d)) next to the binary estimates"),
    "group": ("K1 on household data", "0/1 eligible subgroup (1 = rural), fixed within unit: K1 runs the "
              "staggered triple difference (rural x designated x after); the verdict is about the urban-rural gap"),
    "cluster": ("optional (with group)", "cluster of the household design's standard errors (e.g. prefecture); "
                "default: the unit"),
    "sampling_weight": ("optional (with group)", "the survey's sampling weight of each household (fixed within "
                        "unit, >= 0); default: unweighted"),
}


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
        if role in out:
            raise SpecificationError(f"--map: role {role!r} is given twice ({out[role]!r} and {column!r}); map each "
                                     "role once")
        out[role] = [c for c in column.split("+") if c] if role in LIST_ROLES else column
    return out


def resolve_roles(mapping: dict | None) -> dict:
    """The demonstration panel's roles, overridden by ``mapping`` (used for the bundled panel only)."""
    roles = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULT_ROLES.items()}
    roles.update(mapping or {})
    return roles


def user_roles(mapping: dict | None) -> dict:
    """The roles of a user panel: exactly what was mapped (unmapped roles are None, or [] for list roles).

    Raises SpecificationError naming every required role that is not mapped.
    """
    mapping = dict(mapping or {})
    roles = {k: ([] if k in LIST_ROLES else None) for k in DEFAULT_ROLES}
    roles.update(mapping)
    missing = [r for r in ("unit", "time") if not roles[r]]
    if not roles["cohort"] and not roles["treated"]:
        missing.append("cohort (or treated)")
    if not roles["outcome"] and not (roles["urban_income"] and roles["rural_income"]):
        if roles["urban_income"] or roles["rural_income"]:
            missing.append("rural_income" if roles["urban_income"] else "urban_income")
        else:
            missing.append("outcome (or urban_income + rural_income)")
    if missing:
        given = ",".join(f"{k}={'+'.join(v) if isinstance(v, list) else v}" for k, v in mapping.items()) or "nothing"
        raise SpecificationError(
            f"--map must name the column of each required role; missing: {', '.join(missing)} (mapped: {given}). "
            "Example: --map unit=countyreal,time=year,cohort=first.treat,outcome=lemp (see econ replicate --help)")
    return roles


@dataclass
class PreparedPanel:
    """A validated user panel with the column names the claim scripts use."""

    frame: pd.DataFrame
    y: str          # outcome column (the user's, or the derived log ratio)
    treat: str      # 0/1 treatment column (the user's if mapped, else the derived "treated")
    cohort: str     # cohort column, int with 0 = never (the user's if mapped, else the derived "cohort")
    outcome_label: str


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _show_cells(frame, unit, time, mask, values) -> str:
    rows = frame.index[mask][:6]
    cells = "; ".join(f"{unit}={_plain(frame.at[i, unit])!r}, {time}={_plain(frame.at[i, time])!r}: "
                      f"{_plain(values.at[i])!r}" for i in rows)
    more = f" (+{int(mask.sum()) - len(rows)} more)" if mask.sum() > len(rows) else ""
    return cells + more


def _strict_numbers(frame, col: str, unit: str, time: str, what: str) -> pd.Series:
    """A column read from a text file as numbers; cells that are not numbers are an error naming them (empty cells
    stay missing)."""
    raw = frame[col]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype(float)
    text = raw.astype("string").str.strip()
    text = text.mask(text == "")
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & numbers.isna()
    if bad.any():
        kind = "years" if what == "cohort" else "numbers"
        raise SpecificationError(f"{what} column {col!r} has {int(bad.sum())} cell(s) that are not {kind}: "
                                 f"{_show_cells(frame, unit, time, bad.to_numpy(), raw)}")
    return numbers.astype(float)


def prepare_panel(data: pd.DataFrame, roles: dict) -> PreparedPanel:
    """Validate a user panel for the causal claims (copy; the input is not modified).

    Cohort and treatment go through the library's validators (:mod:`econ.did._design`): a cohort that varies
    within a unit, is not a period of the panel, or a treatment that switches off raise ``TreatmentError`` naming
    the units; a ``treated`` column that disagrees with ``cohort`` is an error naming the units too.
    """
    from econ.did import _design
    from econ.did.design import build_design
    from econ.io import validate_panel

    unit, time = roles["unit"], roles["time"]
    frame = validate_panel(data, unit, time)
    mapped = [c for r, c in roles.items() if c and r not in LIST_ROLES] + [c for r in LIST_ROLES for c in roles[r]]
    _design.require_columns(frame, mapped, "mapped column")
    for derived, role in (("cohort", "cohort"), ("treated", "treated")):
        if not roles[role] and derived in frame.columns and derived not in mapped:
            raise SpecificationError(
                f"your data has a column {derived!r} that is not mapped; the {role} derived from "
                f"{roles['treated'] or roles['cohort']!r} would replace it: map it (--map {role}={derived}) or "
                "rename it")
    cohort_col, treat_col = roles["cohort"] or "cohort", roles["treated"] or "treated"
    per_unit = None
    if roles["cohort"]:
        values = _strict_numbers(frame, cohort_col, unit, time, "cohort")
        frame[cohort_col] = values
        per_unit = build_design(frame, None, unit, time, cohort_col, always_treated="keep", comparison=False).cohorts
    if roles["treated"]:
        frame[treat_col] = _strict_numbers(frame, treat_col, unit, time, "treated")
        if frame[treat_col].isna().any():
            bad = frame[treat_col].isna().to_numpy()
            raise SpecificationError(f"treated column {treat_col!r} is empty in {int(bad.sum())} row(s): "
                                     f"{_show_cells(frame, unit, time, bad, frame[treat_col])}")
        kind = _design.check_treatment(frame, unit, time, treat_col)
        if kind != "binary":
            raise SpecificationError(f"treated column {treat_col!r} must be 0/1 (found other values); map a "
                                     "cohort column for a staggered design")
        from_treat = _design.cohort_from_treatment(frame, unit, time, treat_col)
        if per_unit is not None:
            _agree(per_unit, from_treat, unit, cohort_col, treat_col)
        per_unit = from_treat
    _design.check_comparison(per_unit, unit)
    first = frame[unit].map(per_unit)
    frame[cohort_col] = first.where(first != _design.NEVER, 0).astype("int64")
    frame[treat_col] = ((frame[cohort_col] > 0) & (frame[time] >= frame[cohort_col])).astype("int64")
    if roles["outcome"]:
        y = roles["outcome"]
        frame[y] = _strict_numbers(frame, y, unit, time, "outcome")
        label = y
    else:
        urban, rural = roles["urban_income"], roles["rural_income"]
        y = label = f"log({urban}/{rural})"
        frame[y] = _log_ratio(frame, urban, rural, unit, time)
    _check_k1_roles(frame, roles, cohort_col)
    return PreparedPanel(frame, y, treat_col, cohort_col, label)


def _check_k1_roles(frame: pd.DataFrame, roles: dict, cohort_col: str) -> None:
    """Validate the K1-only roles ``dose``, ``group`` and ``cluster`` in place (numbers, 0/1, fixed within unit)."""
    dose, group, cluster = roles.get("dose"), roles.get("group"), roles.get("cluster")
    if dose and group:
        raise SpecificationError(f"--map dose={dose} and group={group} cannot be combined: group selects K1's "
                                 "household triple difference (binary designation), dose the city-level dose-response")
    for role in ("cluster", "sampling_weight"):
        if roles.get(role) and not group:
            raise SpecificationError(f"--map {role}={roles[role]} applies to K1's household design only (with --map "
                                     "group=...)")
    if group:
        if not roles["outcome"]:
            raise SpecificationError(f"--map group={group} (household data) needs the household outcome mapped as "
                                     "outcome= (e.g. log income); urban_income/rural_income are for city panels")
        frame[group] = _check_group(frame, group, roles["unit"], roles["time"])
    if cluster:
        _fixed_within_unit(frame, cluster, roles["unit"], "cluster")
    if roles.get("sampling_weight"):
        frame[roles["sampling_weight"]] = _check_weight(frame, roles["sampling_weight"], roles["unit"], roles["time"])
    if dose:
        frame[dose] = _check_dose(frame, dose, roles["unit"], roles["time"], cohort_col)


def _units_varying(frame: pd.DataFrame, col: str, unit: str) -> pd.Index:
    counts = frame.groupby(unit, sort=False)[col].nunique(dropna=False)
    return counts.index[counts > 1]


def _fixed_within_unit(frame: pd.DataFrame, col: str, unit: str, role: str) -> None:
    """SpecificationError naming the units in which ``col`` takes more than one value."""
    bad = _units_varying(frame, col, unit)
    if len(bad):
        shown = ", ".join(repr(_plain(u)) for u in bad[:6]) + (f" (+{len(bad) - 6} more)" if len(bad) > 6 else "")
        raise SpecificationError(f"{role} column {col!r} must be fixed within {unit}: it varies in {len(bad)} "
                                 f"unit(s): {shown}")


def _check_group(frame: pd.DataFrame, col: str, unit: str, time: str) -> pd.Series:
    """The eligible-subgroup column as int 0/1: no missing cells, exactly the values 0 and 1, fixed within unit."""
    raw = frame[col]
    missing = raw.isna().to_numpy()
    if missing.any():
        raise SpecificationError(f"group column {col!r} is empty in {int(missing.sum())} row(s): "
                                 f"{_show_cells(frame, unit, time, missing, raw)}")
    values = sorted(pd.unique(raw).tolist(), key=str)
    if len(values) > 2:
        shown = ", ".join(repr(_plain(v)) for v in values[:8]) + (" ..." if len(values) > 8 else "")
        raise SpecificationError(f"group column {col!r} has {len(values)} values ({shown}); it must have two, 0/1 "
                                 "with 1 = the eligible subgroup (rural households)")
    if pd.api.types.is_bool_dtype(raw):
        coded = raw.astype("int64")
    else:
        coded = pd.to_numeric(raw, errors="coerce")
        if coded.isna().any() or not coded.isin([0, 1]).all():
            shown = ", ".join(repr(_plain(v)) for v in values)
            raise SpecificationError(f"group column {col!r} has values {shown}; it must be 0/1 with 1 = the eligible "
                                     "subgroup (rural households): recode it (e.g. rural = 1, urban = 0)")
        coded = coded.astype("int64")
    if coded.nunique() < 2:
        raise SpecificationError(f"group column {col!r} is {int(coded.iloc[0])} in every row; the triple difference "
                                 "needs both the eligible (1) and the other (0) subgroup")
    _fixed_within_unit(frame.assign(**{col: coded}), col, unit, "group")
    return coded


def _check_weight(frame: pd.DataFrame, col: str, unit: str, time: str) -> pd.Series:
    """Sampling weights as float: numbers, not empty, not negative, fixed within unit."""
    w = _strict_numbers(frame, col, unit, time, "sampling_weight")
    for bad, what in ((w.isna().to_numpy(), "empty"), ((w < 0).to_numpy() | np.isinf(w.to_numpy()),
                                                       "negative or infinite")):
        if bad.any():
            raise SpecificationError(f"sampling_weight column {col!r} is {what} in {int(bad.sum())} row(s): "
                                     f"{_show_cells(frame, unit, time, bad, w)}")
    _fixed_within_unit(frame.assign(**{col: w}), col, unit, "sampling_weight")
    return w


def _check_dose(frame: pd.DataFrame, col: str, unit: str, time: str, cohort_col: str) -> pd.Series:
    """The dose as float: numbers, not negative, fixed within unit, positive for every treated unit and not a 0/1
    dummy. Empty cells of never-treated units are allowed (their dose is not used)."""
    dose = _strict_numbers(frame, col, unit, time, "dose")
    treated = (frame[cohort_col] > 0).to_numpy()
    empty = (dose.isna().to_numpy() & treated)
    if empty.any():
        raise SpecificationError(f"dose column {col!r} is empty for treated units in {int(empty.sum())} row(s): "
                                 f"{_show_cells(frame, unit, time, empty, dose)}")
    negative = (dose < 0).to_numpy()
    if negative.any():
        raise SpecificationError(f"dose column {col!r} must not be negative; {int(negative.sum())} row(s) are: "
                                 f"{_show_cells(frame, unit, time, negative, dose)}")
    if dose.dropna().isin([0, 1]).all():
        raise SpecificationError(
            f"dose column {col!r} is a 0/1 dummy, not a dose (the binary estimates already use the treatment); map "
            "a treatment intensity with several positive values, or leave dose unmapped")
    _fixed_within_unit(frame.assign(**{col: dose}), col, unit, "dose")
    zero = (dose == 0).to_numpy() & treated
    if zero.any():
        raise SpecificationError(f"dose column {col!r} is 0 for treated units (a treated unit needs a positive dose) "
                                 f"in {int(zero.sum())} row(s): {_show_cells(frame, unit, time, zero, dose)}")
    positive = np.unique(dose[treated].to_numpy())
    if len(positive) < 2:
        level = _plain(positive[0]) if len(positive) else "none"
        raise SpecificationError(
            f"dose column {col!r} takes a single positive value ({level}) among treated units: it is a binary "
            "treatment, not a dose (the binary estimates already use the treatment); map a dose with several "
            "positive values, or leave dose unmapped")
    return dose


def _agree(cohort: pd.Series, from_treat: pd.Series, unit: str, cohort_col: str, treat_col: str) -> None:
    both = pd.concat({"cohort": cohort, "treated": from_treat.reindex(cohort.index)}, axis=1)
    bad = both[both["cohort"] != both["treated"]]
    if len(bad):
        from econ.did._design import NEVER
        from econ.errors import TreatmentError

        show = lambda v: "never" if v == NEVER else int(v)  # noqa: E731
        cases = "; ".join(f"{unit}={_plain(u)!r}: {cohort_col} {show(r['cohort'])}, {treat_col} first 1 in "
                          f"{show(r['treated'])}" for u, r in bad.head(5).iterrows())
        more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
        raise TreatmentError(f"treated column {treat_col!r} disagrees with cohort column {cohort_col!r} for "
                             f"{len(bad)} unit(s): {cases}{more}")


def _log_ratio(frame, urban, rural, unit, time) -> pd.Series:
    u = _strict_numbers(frame, urban, unit, time, "urban_income")
    r = _strict_numbers(frame, rural, unit, time, "rural_income")
    bad = ((u <= 0) | (r <= 0)).to_numpy()
    if bad.any():
        raise PanelError(f"{urban!r} and {rural!r} must be positive to take logs; "
                         f"{_show_cells(frame, unit, time, bad, u.astype(str) + '/' + r.astype(str))}")
    return np.log(u / r)


def read_user_panel(source, roles: dict) -> tuple[pd.DataFrame, dict]:
    """Read the user's panel (path or DataFrame), check every mapped column and the design, and describe it.

    Returns the validated frame (not yet prepared: each claim prepares its own copy) and ``user_data``: file name,
    absolute path, SHA-256 of the file's bytes, rows and the role -> column mapping. Raises SpecificationError for a
    path that is missing or a folder, and every error of :func:`prepare_panel`.
    """
    import hashlib

    if isinstance(source, pd.DataFrame):
        digest = hashlib.sha256(pd.util.hash_pandas_object(source, index=False).to_numpy().tobytes()).hexdigest()
        name, path = "DataFrame", None
        frame = source.copy()
    else:
        path = Path(source)
        if path.is_dir():
            raise SpecificationError(f"--data {path}: is a folder, not a data file")
        if not path.is_file():
            raise SpecificationError(f"--data {path}: no such file")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        name = path.name
        frame = _read_file(path, roles)
    mapped = {r: c for r, c in roles.items() if c}
    missing = {r: c for r, c in mapped.items()
               if (c not in frame.columns if not isinstance(c, list) else any(x not in frame.columns for x in c))}
    if missing:
        shown = ", ".join(f"{r}={'+'.join(c) if isinstance(c, list) else c}" for r, c in missing.items())
        cols = [c for c in (missing.values()) for c in (c if isinstance(c, list) else [c]) if c not in frame.columns]
        raise SpecificationError(f"--map {shown}: column(s) {cols} not in {name}; its columns are "
                                 f"{list(frame.columns)}")
    prepare_panel(frame, roles)  # fail fast, once, before any claim runs
    user_data = {"file": name, "path": str(path.resolve()) if path else None, "sha256": digest,
                 "rows": int(len(frame)), "columns": mapped}
    return frame, user_data


def _read_file(path: Path, roles: dict) -> pd.DataFrame:
    """The user's file read as :func:`econ.read_panel` reads it (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030,
    Stata .dta, parquet); validated as a panel when its unit and time columns are there (a mapped column that is
    not is reported by the caller with the file's columns)."""
    from econ.io import _read, validate_panel

    frame = _read(path, None, roles["unit"], roles["time"])
    if roles["unit"] in frame.columns and roles["time"] in frame.columns:
        frame = validate_panel(frame, roles["unit"], roles["time"])
    return frame
