"""The result of :func:`econ.did.cont_did`: dose-response curves, event study, group-time cells, overall summaries."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from econ._figure import figure, finish_figure
from econ.errors import SpecificationError

COLUMNS = ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]


@dataclass
class ContDiDResult:
    """Continuous-dose DiD estimates (:func:`econ.did.cont_did`).

    Attributes
    ----------
    curve : DataFrame
        ``dose, att, att_se, acrt, acrt_se`` on the dose grid.
    event_study : DataFrame
        ``event_time, att_o, acrt_o, n_cells, att_o_se, acrt_o_se``.
    group_time : DataFrame
        One row per (cohort, period) cell with ATT^o, ACRT^o, their standard errors and unit counts.
    overall, overall_se : dict
        ``{"ATT^o": ..., "ACRT^o": ...}`` and their standard errors.
    crit : dict
        Uniform (sup-t) critical values by family (``att_d``, ``acrt_d``, ``es_att``, ``es_acrt``); empty when
        ``n_draws=0``.
    influence : dict
        Influence functions (n units x estimates) of the curves and overall summaries.
    method, control, depvar, cluster : str
        Dose-response method, comparison group, outcome column and cluster column (``None``: units).

    Examples
    --------
    >>> from econ.simulate import draw_dose_panel
    >>> from econ.did import cont_did
    >>> sim = draw_dose_panel(n_units=300, seed=1)
    >>> res = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=99)
    >>> list(res.tidy("overall")["term"])
    ['ATT^o', 'ACRT^o']
    """

    curve: pd.DataFrame
    event_study: pd.DataFrame
    group_time: pd.DataFrame
    overall: dict
    overall_se: dict
    crit: dict
    z: float
    level: float
    n_draws: int
    notes: list = field(default_factory=list)
    nobs: int | None = None
    n_units: int | None = None
    method: str = "spline"
    control: str = ""
    depvar: str | None = None
    cluster: str | None = None
    influence: dict = field(default_factory=dict, repr=False)

    def _rows(self, terms, est, se, crit=None, **keys) -> pd.DataFrame:
        est, se = np.asarray(est, float), np.asarray(se, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * stats.norm.sf(np.abs(est / se))
        out = pd.DataFrame({"term": terms, "estimate": est, "std_error": se, "p_value": p,
                            "conf_low": est - self.z * se, "conf_high": est + self.z * se})
        c = np.nan if crit is None else crit
        out["uniform_low"], out["uniform_high"] = est - c * se, est + c * se
        for k, v in keys.items():
            out[k] = v
        return out

    def tidy(self, which: str = "all") -> pd.DataFrame:
        """Estimates as rows.

        Parameters
        ----------
        which : {"all", "overall", "dose", "event", "group_time"}
            ``"overall"``: ATT^o and ACRT^o; ``"dose"``: ATT(d) and ACRT(d) on the grid (``dose`` column, uniform
            band in ``uniform_low``/``uniform_high``); ``"event"``: ATT^o and ACRT^o by event time;
            ``"group_time"``: each (g, t) cell.

        Returns
        -------
        DataFrame
            ``term, estimate, std_error, p_value, conf_low, conf_high`` (normal pointwise intervals), then
            ``uniform_low, uniform_high`` and key columns.
        """
        parts = {"overall": self._overall, "dose": self._dose, "event": self._event, "group_time": self._gt}
        if which == "all":
            return pd.concat([f() for f in parts.values()], ignore_index=True)
        if which not in parts:
            raise SpecificationError(f"which must be one of {['all', *parts]}, got {which!r}")
        return parts[which]()

    def _overall(self):
        return self._rows(list(self.overall), list(self.overall.values()), list(self.overall_se.values()))

    def _dose(self):
        c, d = self.curve, self.curve["dose"].to_numpy()
        a = self._rows([f"ATT(d={x:.4g})" for x in d], c["att"], c["att_se"], self.crit.get("att_d"), dose=d,
                       target="att")
        b = self._rows([f"ACRT(d={x:.4g})" for x in d], c["acrt"], c["acrt_se"], self.crit.get("acrt_d"), dose=d,
                       target="acrt")
        return pd.concat([a, b], ignore_index=True)

    def _event(self):
        e = self.event_study
        a = self._rows([f"ATT(e={k})" for k in e["event_time"]], e["att_o"], e["att_o_se"], self.crit.get("es_att"),
                       event_time=e["event_time"].to_numpy(), target="att")
        b = self._rows([f"ACRT(e={k})" for k in e["event_time"]], e["acrt_o"], e["acrt_o_se"],
                       self.crit.get("es_acrt"), event_time=e["event_time"].to_numpy(), target="acrt")
        return pd.concat([a, b], ignore_index=True)

    def _gt(self):
        g = self.group_time
        lab = [f"g={a},t={b}" for a, b in zip(g["cohort"], g["period"])]
        a = self._rows([f"ATT({x})" for x in lab], g["att_o"], g["att_o_se"], cohort=g["cohort"].to_numpy(),
                       period=g["period"].to_numpy(), target="att")
        b = self._rows([f"ACRT({x})" for x in lab], g["acrt_o"], g["acrt_o_se"], cohort=g["cohort"].to_numpy(),
                       period=g["period"].to_numpy(), target="acrt")
        return pd.concat([a, b], ignore_index=True)

    def summary(self) -> str:
        """Overall summaries, the event study and a few points of the dose-response, with the notes.

        Returns
        -------
        str
        """
        lines = [f"Continuous-dose DiD (Callaway, Goodman-Bacon and Sant'Anna 2024), {self.method} dose-response",
                 f"units: {self.n_units}, observations: {self.nobs}, level: {self.level:.0%}", ""]
        o = self._overall()
        lines += [f"{t:>8}: {e: .4f} (se {s:.4f})" for t, e, s in zip(o["term"], o["estimate"], o["std_error"])]
        lines += ["", "event study (ATT^o, ACRT^o):"]
        for _, r in self.event_study.iterrows():
            lines.append(f"  e={int(r.event_time):>3}: {r.att_o: .4f} ({r.att_o_se:.4f})   {r.acrt_o: .4f} "
                         f"({r.acrt_o_se:.4f})")
        c = self.curve.iloc[np.unique(np.linspace(0, len(self.curve) - 1, min(5, len(self.curve))).astype(int))]
        lines += ["", "dose-response (ATT(d), ACRT(d)):"]
        lines += [f"  d={r.dose:.4g}: {r.att: .4f} ({r.att_se:.4f})   {r.acrt: .4f} ({r.acrt_se:.4f})"
                  for _, r in c.iterrows()]
        if self.notes:
            lines += ["", "notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None, *, target: str = "att", truth=None, uniform: bool = True):
        """The dose-response curve with its pointwise interval and uniform band.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        path : str or Path, optional
            Also write the figure here.
        target : {"att", "acrt"}
            ATT(d) or ACRT(d).
        truth : callable or object with ``att(d)``/``acrt(d)``, optional
            The true curve (e.g. a simulated design from :func:`econ.simulate.draw_dose_panel`), drawn dashed.
        uniform : bool
            Draw the uniform (sup-t) band when it was computed.

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        if target not in ("att", "acrt"):
            raise SpecificationError(f"target must be 'att' or 'acrt', got {target!r}")
        fig, ax = figure(ax)
        d = self.curve["dose"].to_numpy()
        est, se = self.curve[target].to_numpy(), self.curve[target + "_se"].to_numpy()
        crit = self.crit.get(target + "_d")
        if uniform and crit is not None and np.isfinite(crit):
            ax.fill_between(d, est - crit * se, est + crit * se, alpha=0.15, color="C0",
                            label=f"uniform {self.level:.0%} band")
        ax.fill_between(d, est - self.z * se, est + self.z * se, alpha=0.3, color="C0",
                        label=f"pointwise {self.level:.0%}")
        ax.plot(d, est, color="C0", marker="o" if self.method == "discrete" else None,
                label="ATT(d)" if target == "att" else "ACRT(d)")
        if truth is not None:
            f = getattr(truth, target, truth)
            ax.plot(d, f(d), "k--", label="truth")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("dose")
        ax.set_ylabel("ATT(d)" if target == "att" else "ACRT(d)")
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)
