"""Input checks and the wide outcome matrix shared by :mod:`econ.did.sdid` and :mod:`econ.did.synth`.

A long panel (unit, time, outcome, absorbing 0/1 treatment) becomes a units x periods matrix with each unit's
adoption period (its first treated period; never-treated units have none). Every problem a few-treated-units
estimator cannot handle is refused here with an :class:`~econ.errors.EconError` naming the units or periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from econ._validate import require_columns
from econ.did._design import check_treatment
from econ.errors import PanelError, SpecificationError, TreatmentError
from econ.io import validate_panel

__all__: list[str] = []


@dataclass
class WidePanel:
    """Outcome matrix ``Y`` (units x periods), unit and period labels, adoption period per unit (None = never)."""

    Y: np.ndarray
    units: list
    times: np.ndarray
    adoption: dict
    notes: list

    @property
    def treated(self) -> list:
        return [u for u in self.units if self.adoption[u] is not None]

    @property
    def controls(self) -> list:
        return [u for u in self.units if self.adoption[u] is None]

    def rows(self, units) -> np.ndarray:
        pos = {u: i for i, u in enumerate(self.units)}
        return np.array([pos[u] for u in units], dtype=int)

    def cohorts(self) -> dict:
        """Adoption period -> treated units (in unit order), sorted by period."""
        out: dict = {}
        for u in self.treated:
            out.setdefault(self.adoption[u], []).append(u)
        return dict(sorted(out.items()))


def _show(units, k: int = 10) -> str:
    units = list(units)
    more = f" ... ({len(units)} in all)" if len(units) > k else ""
    return ", ".join(repr(u) for u in units[:k]) + more


def wide_panel(data: pd.DataFrame, outcome: str, unit: str, time: str, treat: str, *, donors=None,
               min_pre: int = 2) -> WidePanel:
    """Validate and reshape; see the module docstring. ``donors`` restricts the never-treated units used."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    require_columns(data, [outcome, unit, time, treat])
    df = validate_panel(data[[unit, time, outcome, treat]], unit, time)
    notes: list[str] = []
    d = df[treat]
    if d.isna().any():
        rows = df.index[d.isna()]
        raise TreatmentError(f"treatment column '{treat}' is missing for units {_show(df.loc[rows, unit].unique())}")
    if d.nunique() > 1 or not d.isin([0, 1, True, False]).all():
        # the package's one absorbing 0/1 rule: names the units, points to did_multiplegt / cont_did
        check_treatment(df, unit, time, treat, intensity=False)
    y = pd.to_numeric(df[outcome], errors="coerce")
    if y.isna().sum() > df[outcome].isna().sum():
        raise SpecificationError(f"outcome '{outcome}' must be numeric")
    if not np.isfinite(y.dropna()).all():
        raise SpecificationError(f"outcome '{outcome}' has infinite values")
    ucodes, units_idx = pd.factorize(df[unit], sort=True)
    tcodes, times = pd.factorize(df[time], sort=True)
    times = np.asarray(times)
    units = list(units_idx)
    Yfull = np.full((len(units), len(times)), np.nan)
    Yfull[ucodes, tcodes] = y.to_numpy(dtype=float)
    Dfull = np.full((len(units), len(times)), np.nan)
    Dfull[ucodes, tcodes] = d.to_numpy(dtype=float)
    wide = pd.DataFrame(Yfull, index=units, columns=times)
    # adoption: first treated period; the treatment must be absorbing
    adoption: dict = {}
    for k, u in enumerate(units):
        row = Dfull[k]
        obs = ~np.isnan(row)
        on = np.flatnonzero((row == 1) & obs)
        if not len(on):
            adoption[u] = None
            continue
        first = on[0]
        if (row[first:][obs[first:]] != 1).any():
            raise TreatmentError(f"treatment '{treat}' switches off after it starts for unit {u!r} (first treated "
                                 f"in {times[first]}); synthetic control and SDID need an absorbing treatment")
        adoption[u] = times[first]
    treated = [u for u in units if adoption[u] is not None]
    never = [u for u in units if adoption[u] is None]
    if not treated:
        raise TreatmentError(f"no unit is ever treated ('{treat}' is 0 everywhere)")
    if not never:
        raise TreatmentError(f"all {len(units)} units are treated at some point: there is no never-treated donor "
                             "unit to build a synthetic control from")
    if donors is not None:
        donors = list(donors) if not isinstance(donors, (str, bytes)) and np.iterable(donors) else [donors]
        own = [u for u in donors if u in adoption and adoption[u] is not None]
        if own:
            raise SpecificationError(f"donors include treated unit(s) {_show(own)}: a treated unit cannot be its own "
                                     "(or another treated unit's) donor")
        unknown = [u for u in donors if u not in adoption]
        if unknown:
            raise SpecificationError(f"donors not found in column '{unit}': {_show(unknown)}")
        if len(set(donors)) != len(donors):
            raise SpecificationError("donors lists a unit more than once")
        dropped = [u for u in never if u not in set(donors)]
        if dropped:
            notes.append(f"{len(dropped)} never-treated unit(s) not in donors were left out")
        never = [u for u in never if u in set(donors)]
        if not never:
            raise SpecificationError("donors is empty")
    first_adoption = min(adoption[u] for u in treated)
    n_pre = int((times < first_adoption).sum())
    if n_pre < min_pre:
        raise TreatmentError(f"treatment starts in {first_adoption} with only {n_pre} earlier period(s); at least "
                             f"{min_pre} pre-treatment periods are needed")
    W = wide.loc[treated + never]
    miss = W.isna()
    bad_tr = [u for u in treated if miss.loc[u].any()]
    if bad_tr:
        u = bad_tr[0]
        gaps = [int(t) for t in times[miss.loc[u].to_numpy()]][:8]
        pre = [t for t in gaps if t < adoption[u]]
        kind = "pre-treatment" if pre else "post-treatment"
        raise PanelError(f"treated unit(s) {_show(bad_tr)} have missing {outcome!r} ({kind} periods of {u!r}: "
                         f"{gaps}); SC/SDID need a balanced panel: every treated unit observed in every period")
    bad_co = [u for u in never if miss.loc[u].any()]
    if bad_co:
        raise PanelError(f"donor unit(s) {_show(bad_co)} have missing {outcome!r} in some periods; drop them "
                         "(pass donors=[...] without them) or fill the gaps: SC/SDID need a balanced panel")
    order = never + treated
    return WidePanel(Y=wide.loc[order].to_numpy(dtype=float), units=order, times=times,
                     adoption={u: adoption[u] for u in order}, notes=notes)
