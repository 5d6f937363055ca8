"""Bad input to did_multiplegt: each a clear EconError naming the column, rows or units, or a note and an
EconWarning for a sample change; never a silent wrong number."""

import numpy as np
import pandas as pd
import pytest

from econ.did import did_multiplegt
from econ.did.intensity.multiplegt import _demo_panel
from econ.errors import EconWarning, PanelError, SpecificationError, TreatmentError


@pytest.fixture
def df():
    return _demo_panel(n=60)


def _staggered(starts, T=5, seed=0):
    """One group per start position (len(T) or more: never switches); binary treatment switching on for good."""
    rng = np.random.default_rng(seed)
    starts = np.asarray(starts)
    t = np.arange(T)
    d = (t[None, :] >= starts[:, None]).astype(float)
    y = rng.normal(size=d.shape) + d
    return pd.DataFrame({"g": np.repeat(np.arange(len(starts)) + 100, T), "t": np.tile(t, len(starts)),
                         "d": d.ravel(), "y": y.ravel()})


def test_missing_columns_are_named(df):
    with pytest.raises(SpecificationError, match="'treatment'"):
        did_multiplegt(df, "y", "unit", "time", "treatment")
    with pytest.raises(SpecificationError, match="'outcome'"):
        did_multiplegt(df, "outcome", "unit", "time", "d")


def test_non_numeric_treatment_names_rows(df):
    bad = df.assign(d=df["d"].map({0.0: "off", 1.0: "on"}))
    with pytest.raises(TreatmentError, match=r"treatment 'd' must be numeric.*'unit': 0, 'time': 0"):
        did_multiplegt(bad, "y", "unit", "time", "d")
    with pytest.raises(SpecificationError, match="'y'"):
        did_multiplegt(df.assign(y="x"), "y", "unit", "time", "d")


def test_missing_or_infinite_treatment(df):
    gaps = df.copy()
    gaps.loc[[3, 4], "d"] = np.nan
    res = did_multiplegt(gaps, "y", "unit", "time", "d")
    assert "2 row(s) with a missing treatment dropped" in res.notes
    with pytest.raises(SpecificationError, match="every row has a missing value"):
        did_multiplegt(df.assign(d=np.nan), "y", "unit", "time", "d")
    inf = df.copy()
    inf.loc[5, "d"] = np.inf
    with pytest.raises(SpecificationError, match=r"'d' has 1 infinite value.*\[5\]"):
        did_multiplegt(inf, "y", "unit", "time", "d")


def test_no_switcher(df):
    with pytest.raises(TreatmentError, match=r"no unit ever changes its treatment 'd' \(all 60 keep"):
        did_multiplegt(df.assign(d=2.0), "y", "unit", "time", "d")


def test_all_switch_at_once_has_no_comparison_and_names_units():
    data = _staggered([2, 2, 2, 2])
    with pytest.warns(EconWarning, match=r"4 g\(s\) with baseline treatment 0 dropped: they all switch in the same "
                                         r"period.*\[100, 101, 102\]"):
        with pytest.raises(TreatmentError, match=r"no switcher has a comparison group.*\[100, 101, 102, 103\]"):
            did_multiplegt(data, "y", "g", "t", "d")


def test_a_baseline_whose_groups_all_switch_together_is_dropped_with_a_warning():
    data = _staggered([2, 3, 9, 2, 3])
    other = _staggered([2, 2], seed=1).assign(g=lambda d: d["g"] + 50, d=lambda d: d["d"] + 5)  # baseline 5
    with pytest.warns(EconWarning, match=r"2 g\(s\) with baseline treatment 5 dropped.*\[150, 151\]"):
        res = did_multiplegt(pd.concat([data, other]), "y", "g", "t", "d")
    assert res.n_units == 5 and any("baseline treatment 5 dropped" in n for n in res.notes)


def test_no_never_switcher_uses_not_yet_switched_groups_and_says_what_is_not_estimable():
    data = _staggered([1, 1, 2, 2, 3, 3, 4, 4] * 5)  # no never-switcher: later switchers are the comparison
    with pytest.warns(EconWarning, match=r"effect_4 not estimable \(NaN\).*baseline treatment\(s\) \[0.0\] have no "
                                         r"never-switching g"):
        res = did_multiplegt(data, "y", "g", "t", "d", effects=4)
    t = res.table.set_index("term")
    assert t.loc["effect_1", "n_switchers"] == 30 and np.isfinite(t.loc["effect_3", "estimate"])
    assert np.isnan(t.loc["effect_4", "estimate"]) and t.loc["effect_4", "n_switchers"] == 0


def test_arguments_and_panel_checks(df):
    with pytest.raises(SpecificationError, match="effects"):
        did_multiplegt(df, "y", "unit", "time", "d", effects=0)
    with pytest.raises(SpecificationError, match="level"):
        did_multiplegt(df, "y", "unit", "time", "d", level=95)
    with pytest.raises(PanelError):
        did_multiplegt(pd.concat([df, df.iloc[:1]]), "y", "unit", "time", "d")
    with pytest.raises(SpecificationError, match=r"cluster .c. must be constant within unit.*\[0, 1, 2"):
        did_multiplegt(df.assign(c=np.arange(len(df)) % 2), "y", "unit", "time", "d", vcov={"CL1": "c"})
    with pytest.raises(SpecificationError, match="vcov must be None"):
        did_multiplegt(df, "y", "unit", "time", "d", vcov="hetero")
