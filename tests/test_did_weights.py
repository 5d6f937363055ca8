"""One meaning of ``weights=`` (sampling weights) across the DiD estimators: the same bad-input rule, invariance
to rescaling, and integer weights equal to replicating units (point estimates)."""

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import att_gt, ddd_gt, event_study, sun_abraham, twfe
from econ.errors import WeightsError

pytestmark = pytest.mark.filterwarnings("ignore")
MP = ("lemp", "countyreal", "year", "first.treat")

ESTIMATORS = {
    "twfe": lambda d, **k: twfe(d, *MP, **k).coef,
    "event_study": lambda d, **k: event_study(d, *MP, **k).coef,
    "sun_abraham": lambda d, **k: sun_abraham(d, *MP, **k).coef,
    "att_gt": lambda d, **k: att_gt(d, *MP, **k).coef,
    "ddd_gt": lambda d, **k: ddd_gt(d, *MP, "rural", **k).coef,
}


@pytest.fixture(scope="module")
def mpdta():
    df = datasets.load("mpdta")
    units = df["countyreal"].unique()
    w = pd.Series(np.random.default_rng(0).integers(1, 3, len(units)), index=units)  # 1 or 2 per county
    return df.assign(rural=(df["countyreal"] % 3 == 0).astype(int), w=df["countyreal"].map(w).astype(float))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_weights_are_one_error(mpdta, name):
    for value, what in ((np.nan, "missing"), (-1.0, "negative")):
        bad = mpdta.copy()
        bad.loc[10, "w"] = value
        with pytest.raises(WeightsError, match=what):
            ESTIMATORS[name](bad, weights="w")


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_rescaling_and_replication(mpdta, name):
    fit = ESTIMATORS[name]
    a = fit(mpdta, weights="w")
    b = fit(mpdta.assign(w=mpdta["w"] * 7.5), weights="w")
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    twice = mpdta[mpdta["w"] == 2].assign(countyreal=lambda d: d["countyreal"] + 100_000)
    replicated = pd.concat([mpdta, twice], ignore_index=True).drop(columns="w")
    np.testing.assert_allclose(a, fit(replicated).reindex(a.index), rtol=1e-7, atol=1e-10)
