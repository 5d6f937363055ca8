# %% [markdown]
# # The field's own toolkit: gap measures, a composite index, a threshold model, a mediation table
#
# A typical paper on digital infrastructure and China's urban-rural income gap has four more steps beyond its DiD:
# (1) the gap measured by the urban/rural ratio and, in robustness checks, the population-weighted **Theil index**;
# (2) "digital development" as an **entropy-weighted index** of several indicators; (3) a **panel threshold
# model** (Hansen 1999) asking whether the effect changes beyond some level; (4) a **mediation table**. This
# tutorial walks through the four on one panel and says after each what it can and cannot show.
#
# **Data.** `china_cities_demo` is a SIMULATED prefecture-year panel (337 units, 2008-2022) with realistic
# incomes, urbanisation and Broadband China designation years; its outcomes are not facts about Chinese cities.
# The digital indicators below are simulated here too, and step 3 plants a known threshold so that the estimator
# can be seen recovering it. With real data, replace the simulated columns and keep the code.

# %%
import numpy as np
import pandas as pd

from econ import datasets, etable, measures
from econ.index import entropy_index, pca_index
from econ.panel import mediation, threshold

demo = datasets.load("china_cities_demo")
df = demo[["prefecture_code", "year", "cohort", "treated", "urban_income", "rural_income", "urbanization_rate",
           "log_gdp_pc", "region"]].copy()
print(df.shape, df.prefecture_code.nunique(), "units", df.year.min(), "-", df.year.max())

# %% [markdown]
# ## 1. The gap: ratio, log ratio and the Theil index
#
# The Theil index of the urban-rural gap (Wang and Ouyang 2007) is
# `T = sum_j (I_j / I) ln[(I_j / I) / (P_j / P)]` over urban and rural residents, with `I_j` total income and `P_j`
# population. Only population *shares* enter, so the urbanisation rate is enough.

# %%
df["urban_pop"] = df["urbanization_rate"] / 100
df["rural_pop"] = 1 - df["urban_pop"]
df["ratio"] = measures.income_ratio(df, "urban_income", "rural_income")
df["log_ratio"] = measures.income_ratio(df, "urban_income", "rural_income", log=True)
df["theil"] = measures.theil_gap(df)
print(df[["ratio", "log_ratio", "theil"]].describe().round(3))
print("correlation ratio-theil:", round(df["ratio"].corr(df["theil"]), 3))

# the same number from group data: Theil's T over the two groups of one city-year
one = df.iloc[[0]]
groups = pd.DataFrame({"income": [one.urban_income.iloc[0], one.rural_income.iloc[0]],
                       "pop": [one.urban_pop.iloc[0], one.rural_pop.iloc[0]], "group": ["urban", "rural"]})
assert abs(measures.theil(groups, "income", weights="pop")["theil"].iloc[0] - one.theil.iloc[0]) < 1e-12

# %% [markdown]
# Inequality *between* cities is a different question: the Theil index of urban income across prefectures (each
# city counted once here; pass `weights=` a population column to weight them), decomposed into between- and
# within-region parts, and the Gini coefficient, year by year (`unit=` makes a missing city-year an error rather
# than a silent change of sample).

# %%
across = measures.theil(df, "urban_income", by="year", groups="region", unit="prefecture_code")
gini = measures.gini(df, "urban_income", by="year", unit="prefecture_code")
print(across.merge(gini, on=["year", "n"]).iloc[::3].round(4))
assert np.allclose(across["between"] + across["within"], across["theil"], atol=1e-12)

# %% [markdown]
# **Can show**: how large the gap is and how it moves, with the Theil index weighting each group by its size (a
# city where few people are rural has a smaller Theil index than one with the same ratio and many rural
# residents). **Cannot show**: anything causal; and the ratio and the Theil index answer slightly different
# questions, so a result that holds for one and not the other is about population shares, not about income.
#
# ## 2. Digital development as an entropy-weighted index
#
# Three simulated indicators driven by one latent "digital level" (rising with income and after designation); the
# telecom price is a *negative* indicator (more is worse).

# %%
rng = np.random.default_rng(7)
latent = 0.6 * (df.log_gdp_pc - df.log_gdp_pc.mean()) + 0.4 * df.treated + 0.03 * (df.year - 2008)
df["broadband_per_100"] = 20 + 12 * latent + rng.normal(0, 2, len(df))
df["mobile_per_100"] = 80 + 15 * latent + rng.normal(0, 4, len(df))
df["telecom_price"] = 50 - 10 * latent + rng.normal(0, 3, len(df))
ind = ["broadband_per_100", "mobile_per_100", "telecom_price"]
dig = entropy_index(df, ind, negative="telecom_price", unit="prefecture_code", time="year")
print(dig.summary())
assert abs(dig.weights["weight"].sum() - 1) < 1e-12
df["digital"] = dig.index

pca = pca_index(df, ind, negative="telecom_price", time="year")
print(pca.weights.round(3))
print("correlation entropy-PCA index:", round(dig.index.corr(pca.index), 3))
assert dig.index.corr(pca.index) > 0.9

# %%
dig.plot()

# %% [markdown]
# **Can show**: a single, reproducible number per city-year, with the weights (and how much they move from year
# to year: the whiskers) on the page. **Cannot show**: that the index measures "digital development": entropy
# weights reward *dispersion*, so an indicator gets weight because it varies, not because it matters; the PCA
# index rewards *co-movement* instead. When the two rank cities the same way (here they do, by construction), the
# choice is harmless; when they do not, report both.
#
# ## 3. A threshold model: does the effect change beyond a level of development?
#
# Hansen's (1999) fixed-effects threshold regression with the digital index as the regime-dependent regressor and
# log GDP per capita as the threshold variable. The demo's gap does not depend on the simulated index, so we plant
# a known threshold: the index narrows the gap only where log GDP per capita exceeds its 60th percentile.

# %%
q_true = float(df.log_gdp_pc.quantile(0.6))
df["theil_t"] = df["theil"] + np.where(df.log_gdp_pc <= q_true, 0.0, -0.05) * df["digital"] + \
    rng.normal(0, 0.002, len(df))
th = threshold(df, "theil_t", "prefecture_code", "year", rx="digital", qx="log_gdp_pc",
               covariates="urbanization_rate", n_thresholds=2, grid=100, n_draws=[199, 199], seed=1,
               vcov={"CL1": "prefecture_code"})
print(th.summary())
est = th.stages.set_index("stage").loc["Th-1", "threshold"]
print("planted threshold", round(q_true, 4), "estimated", round(est, 4))
assert abs(est - q_true) < 0.05  # within a few grid steps (the grid spacing is about 0.02 here)
assert th.tests["p_value"].iloc[0] < 0.05

# %%
th.plot(stage="Th-1")

# %% [markdown]
# Read the output against the truth. The break is found where it was planted. But the slope below it is not 0 (the
# planted value) and a second break is "significant": the index also rises with designation, which narrows the
# demo's gap on its own, so the index's slope picks up the designation effect, and its relation to the gap is not
# linear in income. Both are the usual problems of a regressor that is not randomised, not failures of the search.
#
# **Can show**: whether the slope of the gap on the index differs across ranges of the threshold variable, where
# the break is (with a likelihood-ratio interval), and whether a second break is supported (the bootstrap test of
# one against two thresholds). **Cannot show**: that the index *causes* anything in either regime -- the threshold
# model is a fixed-effects regression with the index on the right-hand side, so every worry about the index's
# endogeneity applies; and a significant threshold in a variable correlated with the true one (income, age of the
# network) is not evidence about the one you named. It needs a balanced panel (econ refuses an unbalanced one).
#
# ## 4. A mediation table
#
# Designation (`treat`) -> digital index (`mediator`) -> Theil index (`y`), city and year fixed effects,
# clustered by city (`vcov={"CL1": ...}`, which is also the bootstrap's resampling unit), 199 cluster-bootstrap
# draws. `econ.etable(med)` prints the three regressions of the classic mediation table side by side.

# %%
med = mediation(df, "theil_t", "treated", "digital", covariates="urbanization_rate",
                fe=["prefecture_code", "year"], vcov={"CL1": "prefecture_code"}, n_draws=199, seed=0)
print(med.summary())
tab = med.tidy()
assert abs(med.total.coef["treated"] - med.direct.coef["treated"] - med.indirect) < 1e-10

# %% [markdown]
# **Can show**: the effect of designation on the mediator (`a`, identified as the DiD is) and on the outcome
# (`c`). **Cannot show**: that the mediator -> outcome link `b`, and hence `a*b`, is causal: the mediator is not
# randomised, so `b` mixes the channel with anything that moves both the index and the gap (the summary prints
# this caveat). Current methodological advice (Jiang 2022) is to report `a`, as econ's claim K4 does with its
# checks, and argue the second link from theory or a separate design; K4 *reports* `b` on a user's panel but
# never tests it.

# %%
print(tab[["term", "estimate", "std_error", "conf_low", "conf_high"]].round(4).to_string(index=False))

# %%
print(etable(med, model_names=["theil_t (total)", "digital (a)", "theil_t (direct)"]))
