# %% [markdown]
# # Spatial weights, Moran's I and LISA, SAR / SDM impacts, and spatial DiD
#
# **Pitfall.** Reading the coefficient of a spatial lag model as "the effect of x": in a SAR/SDM model a change in
# x feeds back through the neighbours, so the marginal effects are the **direct**, **indirect** (spillover) and
# **total** impacts, not the coefficients (LeSage and Pace 2009). In a DiD, ignoring spillovers onto untreated
# neighbours contaminates the control group. **Fix.** `result.impacts()`; `econ.did.spatial_did`.
#
# Real units: the 337 prefecture-level units and their queen contiguity; outcomes of `china_cities_demo` are
# SIMULATED with a known spillover (`DesignParams.spillover`).

# %%
import numpy as np

import econ
from econ import spatial
from econ.simulate import DesignParams, china_cities_demo

W = econ.datasets.load_weights("china_prefecture_contiguity")
print(W.n, "units; islands:", list(W.islands)[:5])
pref = econ.datasets.load("china_prefectures")  # real Broadband China timing
cohorts = pref.set_index("prefecture_code")["bbc_cohort"].fillna(0).astype(int).astype(str).replace({"0": "never"})
fig, ax = econ.plot.choropleth(cohorts, title="Broadband China pilot cohorts (first year designated)")
sim = china_cities_demo(params=DesignParams(spillover=0.04))
df, truth = sim.data, sim.truth
wide = df.pivot(index="prefecture_code", columns="year", values="log_income_ratio")
change = wide[2022] - wide[2013]  # change in the gap since just before the pilots
level = wide[2022]

# %% [markdown]
# ## Moran's I and LISA clusters (permutation inference, `seed=0`)
# Levels have independent unit effects in this design; the *change* since 2013 carries the (spatially clustered)
# treatment and its spillover.

# %%
mi_level = spatial.moran(level, W, n_draws=199)
mi = spatial.moran(change, W, n_draws=199)
print(mi_level.summary())
print(mi.summary())
lisa = spatial.local_moran(change, W, n_draws=199)
print(lisa.summary())
fig, ax = econ.plot.lisa_map(lisa, title="LISA clusters of the simulated change in the gap, 2013-2022")
assert mi.value > mi_level.value  # treatment and its spillover cluster the change in space

# %% [markdown]
# ## SAR: coefficients are not marginal effects

# %%
cross = df[df.year == 2022][["prefecture_code", "log_income_ratio", "log_gdp_pc", "urbanization_rate"]]
cross = cross.set_index("prefecture_code").loc[list(W.ids)].reset_index()
sar = spatial.fit("log_income_ratio ~ log_gdp_pc + urbanization_rate", cross, W, model="sar", unit="prefecture_code")
print(sar.summary())
imp = sar.impacts(n_draws=200)
print(imp.summary())

# %% [markdown]
# ## Spatial DiD: the spillover of treatment onto neighbours
# Exposure is the share of treated neighbours. The truth: direct ATT and spillover are in `sim.truth`.

# %%
sd = econ.did.spatial_did(df, "log_income_ratio", "prefecture_code", "year", cohort="cohort", W=W)
print(sd.summary())
print("true spillover (all neighbours treated):", truth["spillover_log_ratio"])
assert abs(sd.coef["spillover"] - truth["spillover_log_ratio"]) < 0.015  # recovered within about 2 s.e.

# %% [markdown]
# The decomposition against the design's truth: the direct effect (at zero treated-neighbour exposure), the
# spillover onto untreated neighbours and the spillover among treated units. In this design the spillover reaches
# every unit alike, so both spillover terms share one true value.

# %%
spill = truth["spillover_log_ratio"]
fig, ax = sd.plot(truth={"direct": sim.true_att("overall"), "spillover": spill, "spillover_treated": spill})

# %% [markdown]
# ## Exercises
# 1. Set `spillover=0.0` and re-run the spatial DiD: is the spillover term now indistinguishable from zero?
# 2. Fit `model="sdm"` and `model="sem"`: which impacts change and why does SEM have no indirect effect?
# 3. Map the local Moran statistics of the 2022 *level* with `econ.plot.lisa_map`: how many clusters would you
#    expect by chance at p < 0.05 with 337 units?
