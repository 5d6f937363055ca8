# %% [markdown]
# # Panel fixed effects and clustering; few clusters and the wild cluster bootstrap
#
# **Pitfall.** Panel outcomes are serially correlated and treatment is assigned to whole units (or whole
# provinces), so the usual i.i.d. standard errors are far too small: a test of a true null rejects much more often
# than 5%. **Fix.** Cluster by the level at which treatment is assigned (`vcov={"CL1": unit}`; t(G - 1)
# reference distribution); with few clusters use the wild cluster restricted bootstrap.
#
# Everything here is simulated with `econ.simulate.draw_panel`, so the true effect is known (zero below).
# Change `N_UNITS`, `RHO`, `N_GROUPS` and `N_REPS` and re-run.

# %%
import numpy as np
import pandas as pd

import econ
from econ.simulate import DesignParams, draw_panel

N_UNITS, YEARS, RHO, N_REPS = 60, range(2008, 2020), 0.8, 300
NULL = DesignParams(peak_effect={2013: 0.0}, spillover=0.0, rho=RHO, sigma=0.03)  # no effect at all


def one_panel(seed, n_units=N_UNITS):
    units = pd.DataFrame({"unit": np.arange(n_units), "cohort": np.where(np.arange(n_units) < n_units // 2, 2013, 0)})
    return draw_panel(units, YEARS, params=NULL, seed=seed).data


df = one_panel(seed=0)
fit = econ.feols("log_income_ratio ~ treated | unit + year", df, vcov="iid")
print(fit.summary())

# %% [markdown]
# ## The pitfall: i.i.d. standard errors over-reject
# Re-draw the panel `N_REPS` times (true effect 0) and count 5%-level rejections with i.i.d. and with clustered
# standard errors.

# %%
rej = {"iid": 0, "clustered by unit": 0}
for s in range(N_REPS):
    d = one_panel(seed=s)
    rej["iid"] += econ.feols("log_income_ratio ~ treated | unit + year", d, vcov="iid").pvalue["treated"] < 0.05
    rej["clustered by unit"] += econ.feols("log_income_ratio ~ treated | unit + year", d,
                                           vcov={"CL1": "unit"}).pvalue["treated"] < 0.05
rates = {k: round(float(v) / N_REPS, 3) for k, v in rej.items()}
mc_se = np.sqrt(0.05 * 0.95 / N_REPS)  # Monte Carlo s.e. of a rejection rate whose true value is 5%
print(rates, f"Monte Carlo s.e. at 5%: {mc_se:.3f}")

# %% [markdown]
# With persistent errors (`RHO = 0.8`) the i.i.d. test rejects a true null far more often than 5%; the clustered
# test is close to 5%. With `N_REPS = 300` replications a rejection rate has a Monte Carlo standard error of
# sqrt(0.05 x 0.95 / 300) = 1.3 points at 5%, so a clustered rate within about 2.5 points of 5% is what a correctly
# sized test gives; with 40 replications (±7 points at 95%) the comparison would mean little.

# %%
assert rates["iid"] >= 0.25, rates
assert abs(rates["clustered by unit"] - 0.05) <= 3 * mc_se, rates  # within 3 Monte Carlo s.e. of 5%

# %% [markdown]
# ## Few clusters: treatment assigned by province
# Now treatment is assigned to whole groups (say 8 provinces, 4 treated) and each group-year has a common shock.
# Clustering by unit is wrong (the shocks are shared within a province); clustering by province is right but with
# G = 8 the sandwich is noisy, so econ uses t(G - 1) and offers the wild cluster restricted bootstrap
# (Cameron, Gelbach and Miller 2008). With G = 8, Rademacher weights (random sign flips, +1 or -1) have only
# 2^8 = 256 distinct draws, which econ enumerates; Webb's weights take six values (+-sqrt(1/2), +-1, +-sqrt(3/2)),
# so they give many more distinct bootstrap statistics when G is small. Below we use Webb weights.

# %%
N_GROUPS = 8


def grouped_panel(seed):
    rng = np.random.default_rng(seed)
    group = np.arange(N_UNITS) % N_GROUPS
    units = pd.DataFrame({"unit": np.arange(N_UNITS), "cohort": np.where(group < N_GROUPS // 2, 2013, 0),
                          "province": group})
    d = draw_panel(units, YEARS, params=NULL, seed=seed).data
    shock = rng.normal(0, 0.05, (N_GROUPS, len(YEARS)))  # province-year shocks shared by all its units
    d["y"] = d["log_income_ratio"] + shock[d["province"], d["year"] - YEARS.start]
    return d


d = grouped_panel(seed=3)
by_unit = econ.feols("y ~ treated | unit + year", d, vcov={"CL1": "unit"})
by_prov = econ.feols("y ~ treated | unit + year", d, vcov={"CL1": "province"})
wb = by_prov.wildboot("treated", n_draws=999, multiplier="webb", seed=0)
print(f"clustered by unit:     se {by_unit.se['treated']:.4f}  p {by_unit.pvalue['treated']:.3f}")
print(f"clustered by province: se {by_prov.se['treated']:.4f}  p {by_prov.pvalue['treated']:.3f}  (t with G-1 = 7 df)")
print(wb.summary())
fig, ax = wb.plot()  # the bootstrap distribution of the t statistic under the null, and the observed one

# %% [markdown]
# One draw proves nothing; count rejections of the true null over `N_FEW = 200` draws (Monte Carlo s.e. 1.5 points
# at 5%). Clustering by unit ignores the shared province-year shocks and over-rejects; clustering by province with
# t(G - 1) and the wild bootstrap are close to 5%.

# %%
N_FEW = 200
rej = {"CL1 unit": 0, "CL1 province, t(G-1)": 0, "wild bootstrap (webb)": 0}
for s in range(N_FEW):
    d = grouped_panel(seed=100 + s)
    u = econ.feols("y ~ treated | unit + year", d, vcov={"CL1": "unit"})
    p = econ.feols("y ~ treated | unit + year", d, vcov={"CL1": "province"})
    rej["CL1 unit"] += u.pvalue["treated"] < 0.05
    rej["CL1 province, t(G-1)"] += p.pvalue["treated"] < 0.05
    rej["wild bootstrap (webb)"] += p.wildboot("treated", n_draws=199, multiplier="webb", seed=s).p_value < 0.05
few = {k: round(float(v) / N_FEW, 3) for k, v in rej.items()}
print(few, f"Monte Carlo s.e. at 5%: {np.sqrt(0.05 * 0.95 / N_FEW):.3f}")

# %%
assert few["CL1 unit"] >= few["CL1 province, t(G-1)"] + 0.1, few
few_se = np.sqrt(0.05 * 0.95 / N_FEW)
assert abs(few["CL1 province, t(G-1)"] - 0.05) <= 3 * few_se, few  # within 3 Monte Carlo s.e. of 5%
assert abs(few["wild bootstrap (webb)"] - 0.05) <= 3 * few_se, few

# %% [markdown]
# ## Exercises
# 1. Set `RHO = 0` in `NULL`: how far apart are the i.i.d. and clustered rejection rates now? Why?
# 2. Set `N_GROUPS = 4` in the few-clusters experiment: what happens to the rejection rates of the
#    province-clustered t test and the wild bootstrap (with Webb and with Rademacher weights, where only
#    2^4 = 16 sign vectors exist)?
# 3. Compare `ssc="fixest"`, `ssc="stata"` and `ssc="linearmodels"` for the unit-clustered standard error of one
#    panel (see {doc}`../conventions`). Which parameter count differs and why?
# 4. Fit the same model on the bundled demonstration panel
#    `econ.datasets.load("china_cities_demo")` clustered by `prefecture_code` and by `province_code`.
#
# ```{admonition} Solutions (1 and 2)
# :class: dropdown
# 1. With `RHO = 0` the errors are independent over time, so the i.i.d. standard error is right and both rejection
#    rates are near 5% (their difference is within Monte Carlo error): clustering matters here because of the
#    serial correlation, not by itself.
# 2. With 4 provinces (2 treated) the province-clustered t test rests on t(3) and a very noisy variance. Rademacher
#    weights give only 2^4 = 16 sign vectors, all enumerated; the observed draw and its mirror image tie, so the
#    bootstrap p-value is at least 2/16 = 0.125 and the test can never reject at 5%. Webb's six-point weights give
#    6^4 = 1296 combinations and a usable p-value, which is why they are recommended for very few clusters.
# ```
