# %% [markdown]
# # Treatment intensity: a dose-response DiD, and treatments that switch on and off
#
# **Question.** Broadband China designated cities, but places differ in *how much* of them was covered. A binary
# DiD asks "did designation matter on average?"; a dose DiD (Callaway, Goodman-Bacon and Sant'Anna 2024) asks "how
# does the effect change with the dose?": the average effect at dose d, **ATT(d)**, and the average causal response
# to a small increase of the dose, **ACRT(d)** (the slope of the dose-response). **Pitfall.** The two curves need
# different assumptions: ordinary parallel trends identifies ATT(d) for the units that received d, but comparing
# ATT(d) across doses (and so ACRT) is causal only under *strong* parallel trends (units at every dose would have
# responded to any dose as the units that got it did); otherwise the slope mixes the causal response with
# selection into high doses.
#
# We first estimate both on a simulated design whose dose-response is known (`econ.simulate.draw_dose_panel`),
# then on the bundled real provincial data with a dose built from the real designation list, and finally show a
# treatment that switches on and off (`econ.did.did_multiplegt`).

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from econ import datasets, did
from econ.simulate import draw_dose_panel, draw_switching_panel

sim = draw_dose_panel(n_units=1000, n_periods=6, cohorts=(3, 4, 5), slope=0.5, curvature=0.25, low=0.5, high=2.0,
                      seed=0)
df = sim.data
print(df.head(3))
print(f"true ATT^o = {sim.att_o:.4f}, true ACRT^o = {sim.acrt_o:.4f}; "
      f"tau(d) = {sim.slope} d + {sim.curvature} d^2 on doses in [{sim.low}, {sim.high}]")

# %% [markdown]
# ## The binary DiD: one number
# `att_gt` ignores the dose: every treated unit is "treated". Its group aggregation is the average effect over the
# treated units' doses, ATT^o = E[tau(D) | D > 0].

# %%
cs = did.att_gt(df, "y", "unit", "time", "cohort")
binary = cs.aggregate("group")
print(f"binary ATT = {binary.overall_att:.4f} (s.e. {binary.overall_se:.4f}); truth {sim.att_o:.4f}")

# %% [markdown]
# ## The dose DiD: the whole curve
# `cont_did` regresses each cohort's outcome change on a basis of the dose (here a quadratic, `degree=2`; add
# `num_knots` for a B-spline) and subtracts the comparison units' change. It reports the same ATT^o as the binary
# DiD (same cells, same weights), plus ATT(d) and ACRT(d) on a grid of doses with pointwise intervals and uniform
# (sup-t) bands from a multiplier bootstrap: the uniform band covers the *whole* curve with 95% probability, the
# pointwise interval each dose separately.

# %%
res = did.cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=999, seed=0)
print(res.summary())
assert abs(res.overall["ATT^o"] - binary.overall_att) < 1e-10  # the binary DiD is the dose DiD's ATT^o

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
res.plot(ax=axes[0], target="att", truth=sim)
res.plot(ax=axes[1], target="acrt", truth=sim)
axes[0].set_title("ATT(d): effect of dose d vs no treatment")
axes[1].set_title("ACRT(d): effect of a marginal increase")
fig.tight_layout()

# %%
curve = res.tidy("dose")
curve["truth"] = np.where(curve["target"] == "att", sim.att(curve["dose"]), sim.acrt(curve["dose"]))
curve["in_band"] = curve["truth"].between(curve["uniform_low"], curve["uniform_high"])
for target, rows in curve.groupby("target"):
    print(f"{target.upper()}(d): true curve inside the uniform band at {rows.in_band.mean():.0%} of the "
          f"{len(rows)} grid points; largest error {np.abs(rows.estimate - rows.truth).max():.3f}")
assert curve["in_band"].all()  # the whole true curve lies in the uniform bands in this draw
att_lo, att_hi = res.curve["att"].iloc[[0, -1]]
print(f"estimated effect at the lowest dose {res.curve.dose.iloc[0]:.2f}: {att_lo:.3f}, at the highest "
      f"{res.curve.dose.iloc[-1]:.2f}: {att_hi:.3f}; the binary DiD reports {binary.overall_att:.3f} for both")
assert att_hi > 3 * att_lo and abs(res.overall["ACRT^o"] - sim.acrt_o) < 3 * res.overall_se["ACRT^o"]

# %% [markdown]
# **What the dose adds.** The binary DiD's one number is right on average, but the effect at the highest dose is
# several times the effect at the lowest: a program judged by its average would be under-sold where coverage is
# high and over-sold where it is low. **What it needs.** The simulation satisfies strong parallel trends (every
# unit's effect is the same function of its dose); unit *levels* differ by dose, which DiD removes. In real data,
# units that chose or were given high doses may differ in how they would have responded, and then only each
# ATT(d) is causal, not the slope between them.
#
# `res.tidy("event")` gives ATT^o and ACRT^o by event time (the leads are placebo checks, as in an event study).

# %%
print(res.tidy("event").query("target == 'att'")[["term", "estimate", "std_error", "uniform_low",
                                                    "uniform_high"]].round(3).to_string(index=False))

# %% [markdown]
# ## When trends depend on a covariate
# Suppose units with a higher value of a covariate `x` (say, initial urbanisation) trend up faster *and* are more
# likely to be treated. Then treated and untreated units would have diverged even without the program, and the
# unconditional dose DiD is biased. `covariates=["x"]` assumes parallel trends only among units with the same `x`
# and estimates each cell doubly robustly (an outcome regression on the comparison units plus a propensity score, as
# `att_gt`'s default), with standard errors that include the estimation of both.

# %%
sim_x = draw_dose_panel(n_units=1000, n_periods=6, cohorts=(3, 4, 5), slope=0.5, curvature=0.25, low=0.5, high=2.0,
                        x_trend=0.3, seed=0)
fits = {"no covariates": did.cont_did(sim_x.data, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0),
        "covariates=['x']": did.cont_did(sim_x.data, "y", "unit", "time", "cohort", dose="dose", degree=2,
                                         covariates=["x"], n_draws=0)}
table_x = pd.DataFrame({name: {"ATT^o": r.overall["ATT^o"], "s.e.": r.overall_se["ATT^o"],
                               "error in s.e.": (r.overall["ATT^o"] - sim_x.att_o) / r.overall_se["ATT^o"]}
                        for name, r in fits.items()}).T
print(f"true ATT^o = {sim_x.att_o:.4f}")
print(table_x.round(3).to_string())
assert abs(table_x.loc["no covariates", "error in s.e."]) > 3  # biased without the covariate
assert abs(table_x.loc["covariates=['x']", "error in s.e."]) < 3  # recovers the truth with it

# %% [markdown]
# ## Real data: the share of a province's prefectures designated in the first wave
#
# **What we have.** The bundled `china_prefectures` table lists, for each of the 337 prefecture-level units, the
# year the whole unit was designated a Broadband China pilot (`bbc_cohort`: 2014, 2015, 2016, or never), from the
# official lists (see {doc}`../data`). `china_province_gdp` is the real NBS provincial GDP, 2006-2024. There is no
# bundled measure of broadband *penetration* (subscriptions, speeds): the honest dose we can build is the **share of
# a province's prefecture-level units designated** -- an intensity of the *program*, not of broadband use.
#
# **The design.** The share grows year by year (most provinces add units in 2015 and 2016), while `cont_did` needs
# a dose fixed within unit. So we use the first wave only: the window 2006-2014, provinces with a unit designated in
# 2014 are treated from 2014 with dose = their 2014 share; provinces with no unit designated by 2014 are the
# not-yet-treated comparison group (in this window they are untreated, cohort 0). The outcome is log nominal GDP;
# year effects absorb the national price level, not provincial ones.

# %%
pref = datasets.load("china_prefectures")
first_wave = (pref["bbc_cohort"] == 2014).fillna(False)
dose = pref.assign(first_wave=first_wave).groupby("province_code").agg(
    n_units=("prefecture_code", "size"), dose=("first_wave", "mean"))
gdp = datasets.load("china_province_gdp").query("year <= 2014").merge(dose, on="province_code")
gdp["log_gdp"] = np.log(gdp["gdp_100m_yuan"])
gdp["cohort"] = np.where(gdp["dose"] > 0, 2014, 0)
prov = gdp.drop_duplicates("province_code")
print(f"{(prov.dose > 0).sum()} provinces treated in 2014, {(prov.dose == 0).sum()} not yet; doses from "
      f"{prov.dose[prov.dose > 0].min():.2f} to {prov.dose.max():.2f}")
print(prov.query("dose > 0").sort_values("dose")[["province_en", "n_units", "dose"]].round(3)
      .to_string(index=False))
# the facts the next paragraph states
assert (prov.dose > 0).sum() == 20 and (prov.dose == 0).sum() == 11
assert set(prov.loc[prov.dose == 1, "province_en"]) == {"Beijing", "Tianjin", "Shanghai"}
assert prov.loc[prov.dose < 1, "dose"].max() < 0.5
by_2016 = pref.groupby("province_en")["bbc_cohort"].min()
cq = pref.set_index("province_en").loc["Chongqing"]
assert by_2016.isna().sum() == 1 and pd.isna(cq.bbc_cohort) and cq.bbc_cohort_any == 2015 and cq.bbc_partial

# %% [markdown]
# Three municipalities (Beijing, Tianjin, Shanghai) are one unit each and so have dose 1; every other dose is below
# one half. With 20 treated provinces and 11 comparisons the dose-response can only be a straight line
# (`degree=1`: ATT(d) linear, ACRT constant), and the three municipalities have much leverage on its slope
# (exercise 3).

# %%
cs_real = did.att_gt(gdp, "log_gdp", "province_code", "year", "cohort")
bin_real = cs_real.aggregate("group")
res_real = did.cont_did(gdp, "log_gdp", "province_code", "year", "cohort", dose="dose", degree=1, n_draws=999,
                        seed=0)
print(f"binary DiD, 2014: {bin_real.overall_att:.4f} (s.e. {bin_real.overall_se:.4f})")
print(res_real.summary())
assert abs(res_real.overall["ATT^o"] - bin_real.overall_att) < 1e-10
assert res_real.n_units == 31 and len(res_real.curve) == 50

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
res_real.plot(ax=axes[0], target="att")
axes[0].set_xlabel("share of the province's units designated in 2014")
axes[0].set_title("ATT(d), log GDP in 2014")
ev = res_real.tidy("event").query("target == 'att'")
axes[1].errorbar(ev["event_time"], ev["estimate"], yerr=1.96 * ev["std_error"], fmt="o", capsize=3)
axes[1].axhline(0, color="grey", lw=0.8)
axes[1].set_xlabel("years since 2014")
axes[1].set_title("ATT^o by event time (leads are placebos)")
fig.tight_layout()

# %%
acrt = res_real.tidy("overall").set_index("term").loc["ACRT^o"]
print(f"ACRT (slope of ATT(d) per unit of designation share): {acrt.estimate:.4f}, 95% CI "
      f"[{acrt.conf_low:.4f}, {acrt.conf_high:.4f}]")
leads = res_real.tidy("event").query("event_time < 0")
for target, rows in leads.groupby("target"):
    print(f"{target.upper()} leads: {int((rows.p_value < 0.05).sum())} of {len(rows)} have p < 0.05; "
          f"uniform band excludes 0 at {int(((rows.uniform_low > 0) | (rows.uniform_high < 0)).sum())}")

# %% [markdown]
# **What this can show**: whether, in the designation year, provinces with a larger share of designated units
# grew differently from provinces with none yet, and whether that difference was already there before (the leads).
# **What it cannot show**: (1) an effect of broadband *penetration* -- designation share is a program dose, and a
# designated city's households may or may not have faster or more broadband; (2) a medium-run effect: one
# post-treatment year, and by 2016 nearly every province is treated (Chongqing, the one never fully designated, was
# designated in part in 2015), so there is no clean comparison group later; (3) a causal *slope*: pilots were
# selected, not assigned at random, so high-share provinces differ from low-share ones in ways that may change their
# growth, which breaks strong parallel trends; (4) precise inference: 31 provinces, three of them driving the dose
# range (the leads above say how far the "parallel" in parallel trends holds before 2014, for the average and for
# the slope). Read it as a description of the first wave with DiD's comparison built in, not as the program's effect.
#
# ## Treatments that switch on and off: `did_multiplegt`
# Some programs are withdrawn, some intensities move up and down. `did_multiplegt` (de Chaisemartin and
# D'Haultfoeuille 2024) follows each group from its *first* switch and compares it with groups of the same
# baseline that have not switched yet; placebos look back before the switch. `draw_switching_panel` switches
# groups on to level 1 or 2 for 2-4 periods and then off again, with a contemporaneous effect of `effect` per unit
# of treatment.

# %%
EFFECT = 1.0
sw = draw_switching_panel(n_units=400, n_periods=8, effect=EFFECT, levels=(1.0, 2.0), seed=2)
mg = did.did_multiplegt(sw, "y", "unit", "time", "d", effects=3, placebo=2)
print(mg.summary())

# the truth of effect l: EFFECT times the mean treatment of the switchers l - 1 periods after their first switch
d_wide = sw.pivot(index="unit", columns="time", values="d").to_numpy()
first = np.where((d_wide != 0).any(axis=1), (d_wide != 0).argmax(axis=1), -1)
rows = []
for ell in (1, 2, 3):
    at = first + ell - 1
    ok = (first > 0) & (at < d_wide.shape[1])
    rows.append({"term": f"effect_{ell}", "truth": EFFECT * d_wide[ok, at[ok]].mean()})
rows += [{"term": f"placebo_{ell}", "truth": 0.0} for ell in (1, 2)]
check = mg.tidy().merge(pd.DataFrame(rows), on="term")
print(check[["term", "estimate", "std_error", "truth", "n_switchers"]].round(3).to_string(index=False))
assert ((check.estimate - check.truth).abs() < 3 * check.std_error).all()
norm1 = mg.tidy(normalized=True).set_index("term").loc["effect_1"]
print(f"normalized first effect (per unit of treatment): {norm1.estimate:.3f} (s.e. {norm1.std_error:.3f}); "
      f"truth {EFFECT}")
assert abs(norm1.estimate - EFFECT) < 3 * norm1.std_error

# %%
fig, ax = mg.plot()

# %% [markdown]
# Effects fall with the horizon because groups switch off again: effect l is the effect of whatever treatment the
# switchers have l - 1 periods after switching, not of a treatment that stays on. The normalized first effect
# divides by the size of the switch and recovers the per-unit effect. A staggered estimator that treats the first
# switch as permanent (`att_gt` with cohort = first switch) would estimate an intention-to-treat path instead.
#
# ## Exercises
# 1. Set `curvature=0` in `draw_dose_panel`: ACRT(d) is flat. Does the uniform band for ACRT(d) contain a flat line?
#    Re-fit with `degree=1` and compare the width of the bands.
# 2. Use `levels=(0.5, 1.0, 2.0)` in `draw_dose_panel` and `method="discrete"` in `cont_did`: one estimate per
#    dose level, and ACRT as the difference quotient between adjacent levels.
# 3. On the real data, drop the three municipalities (`dose < 1`) and re-fit: how much of the slope was theirs?
# 4. On the real data, build the share designated *by each year* 2014-2016 as a time-varying treatment and run
#    `did_multiplegt(..., effects=2, placebo=3)`. Read the joint placebo test before the effects; which provinces
#    serve as comparisons for the 2016 switchers?
