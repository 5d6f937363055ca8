"""Bad household input: a unit in two eligibility groups (ddd_gt), and repeated cross-sections whose ids repeat
within a period or across periods (att_gt / ddd_gt with panel=False): clear errors naming the units, ids and
periods, raised before any estimate."""

import numpy as np
import pandas as pd
import pytest

from econ.did import att_gt, ddd_gt
from econ.errors import PanelError, TreatmentError
from econ.simulate import household_survey

pytestmark = pytest.mark.filterwarnings("ignore")
ARGS = ("log_income", "household", "year", "cohort")


def _survey(design: str) -> pd.DataFrame:
    return household_survey(n_prefectures=8, households=6, design=design, seed=3).data


def test_a_household_in_two_groups_is_named():
    df = _survey("panel")
    moved = df["household"].isin([7, 31]) & (df["year"] >= 2014)
    df.loc[moved, "rural"] = 1 - df.loc[moved, "rural"]
    with pytest.raises(TreatmentError, match=r"group column 'rural' must be constant within unit: 2 household\(s\) "
                                             r"are observed in two groups, e\.g\. \[7, 31\]"):
        ddd_gt(df, *ARGS, "rural")


@pytest.mark.parametrize("fit", [lambda d: att_gt(d, *ARGS, panel=False),
                                 lambda d: ddd_gt(d, *ARGS, "rural", panel=False)], ids=["att_gt", "ddd_gt"])
def test_repeated_cross_section_ids_that_repeat_within_a_period_are_named_with_their_periods(fit):
    df = _survey("rcs")
    first = df.groupby("year").head(1).index[:2]  # the first respondent of 2010 and of 2011 ...
    dup = df.loc[first].assign(log_income=lambda d: d["log_income"] + 1.0)  # ... recorded twice
    twice = pd.concat([df, dup], ignore_index=True)
    ids = [int(i) for i in df.loc[first, "household"]]
    with pytest.raises(PanelError, match=rf"2 household id\(s\) repeat within a period: {ids[0]} in year=2010, "
                                         rf"{ids[1]} in year=2011; remove the duplicated records"):
        fit(twice)


@pytest.mark.parametrize("fit", [lambda d: att_gt(d, *ARGS, panel=False),
                                 lambda d: ddd_gt(d, *ARGS, "rural", panel=False)], ids=["att_gt", "ddd_gt"])
def test_repeated_cross_section_ids_seen_in_several_periods_are_named_with_their_periods(fit):
    df = _survey("rcs")
    df.loc[df.index[-1], "household"] = df["household"].iat[0]  # the first 2010 respondent again in 2017
    with pytest.raises(PanelError, match=rf"1 household id\(s\) appear in several rows: {df['household'].iat[0]} "
                                         r"\(year 2010, 2017\); if the same units are followed over time"):
        fit(df)
    panel = _survey("panel")  # a panel passed as cross-sections: every id in every period, five shown
    with pytest.raises(PanelError, match=r"48 household id\(s\) appear in several rows: 1 \(year 2010, 2011, "
                                         r".*\(\+43 more\)"):
        fit(panel)


def test_unique_ids_and_no_ids_give_the_same_cross_section_estimate():
    df = _survey("rcs")
    with_ids = att_gt(df, *ARGS, panel=False)
    without = att_gt(df.drop(columns="household"), "log_income", None, "year", "cohort", panel=False)
    np.testing.assert_allclose(with_ids.coef.to_numpy(), without.coef.to_numpy(), rtol=1e-12)
