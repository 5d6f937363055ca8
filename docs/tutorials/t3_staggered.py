# %% [markdown]
# # Staggered adoption: why TWFE fails, and the heterogeneity-robust fixes
#
# **Pitfall.** With staggered adoption and effects that grow with time since adoption, the static two-way
# fixed-effects coefficient is a weighted average of 2x2 comparisons, some of which use *already-treated* units as
# controls ("later vs earlier"). Their still-growing effects are subtracted, and TWFE can miss the truth or flip
# sign (Goodman-Bacon 2021). **Fix.** Callaway-Sant'Anna, Sun-Abraham and the imputation estimator (Borusyak,
# Jaravel and Spiess 2024) only compare with not-yet or never treated units; HonestDiD bounds the effect when
# pre-trends are not exactly zero.
#
# `econ.simulate.twfe_bias_panel` draws such a design with known truth. Change `SLOPES`, `COHORTS` or
# `NEVER_SHARE` and re-run.

# %%
import pandas as pd

import econ
from econ import did
from econ.simulate import twfe_bias_panel

COHORTS, SLOPES, NEVER_SHARE = (2010, 2013, 2016), (0.04, 0.02, 0.01), 0.1
sim = twfe_bias_panel(n_units=120, cohorts=COHORTS, slopes=SLOPES, never_share=NEVER_SHARE, seed=1)
df, truth = sim.data, sim.truth
print("cohort sizes:", truth["cohort_sizes"], " true average ATT:", round(truth["att_overall"], 4))

# %% [markdown]
# Look at the design before estimating anything: who is treated when, and who is never treated.

# %%
fig, ax = did.plot_rollout(df, "unit", "year", "cohort", title="Treatment roll-out")

# %% [markdown]
# ## The pitfall: static TWFE

# %%
tw = did.twfe(df, "log_income_ratio", "unit", "year", cohort="cohort")
print(tw.summary())

# %% [markdown]
# ## Why: the Goodman-Bacon decomposition
# The TWFE coefficient is exactly the weighted mean of the 2x2 estimates below. The "later vs earlier"
# comparisons (already-treated units used as controls) carry a large weight and the wrong sign.

# %%
bd = did.bacon(df, "log_income_ratio", "unit", "year", "cohort")
print(bd.by_type())
print("weight on forbidden comparisons:", round(bd.forbidden_share, 3))
fig, ax = bd.plot()

# %% [markdown]
# ## The fix: robust estimators side by side

# %%
cmp = did.compare(df, "log_income_ratio", "unit", "year", "cohort", window=(-5, 5))
print(cmp.summary())
fig, ax = cmp.plot(truth=sim)  # the design's true path (black dashed), aggregated as the estimators aggregate

# %% [markdown]
# Each Callaway-Sant'Anna aggregation has its own truth: `sim.true_att("event_time" | "cohort" | "time" |
# "overall")` aggregates the design's ATT(g, t) with the same weights, and `plot(truth=sim)` uses it.

# %%
cs = did.att_gt(df, "log_income_ratio", "unit", "year", "cohort")
fig, ax = cs.aggregate("group").plot(truth=sim)
print(pd.DataFrame({"estimate": cs.aggregate("group").tidy().set_index("cohort")["estimate"],
                    "truth": sim.true_att("cohort")}).round(4))

# %%
overall = cmp.overall().set_index("estimator")["estimate"]
true_att = truth["att_overall"]
assert abs(overall["twfe"] - true_att) > 0.08, overall  # TWFE misses by far (it even has the wrong sign)
for name in ("cs", "sa", "imputation"):
    assert abs(overall[name] - true_att) < 0.02, (name, overall[name], true_att)  # the robust ones recover it

# %% [markdown]
# ## The headline table
# One column per estimator, one `ATT` row: the static TWFE coefficient (`treated`, renamed), the simple
# Callaway-Sant'Anna aggregation and the overall effects of Sun-Abraham and imputation; event-time effects as
# `e = k` rows in event-time order; below them the estimator, the comparison group, the rows (observations) and
# units used. `format="latex"` (booktabs) and `format="html"` give the same table for a paper or a web page.

# %%
fits = [did.twfe(df, "log_income_ratio", "unit", "year", "treated"), cs.aggregate("simple"),
        did.sun_abraham(df, "log_income_ratio", "unit", "year", "cohort"),
        did.imputation(df, "log_income_ratio", "unit", "year", "cohort")]
table = econ.etable(fits, rename={"treated": "ATT"}, keep=["^ATT$", "^e = -?[0-3]$"])
print(table)
att_rows = [line for line in table.splitlines() if line.startswith("| ATT |")]
assert len(att_rows) == 1 and att_rows[0].count("|") == 6  # one ATT row, four estimates
assert f"| Observations | {len(df):,} |" in table and "| Units |" in table
print(econ.etable(fits, rename={"treated": "ATT"}, keep="^ATT$", format="latex"))

# %% [markdown]
# ## Sensitivity to violations of parallel trends (HonestDiD)
# Rambachan and Roth (2023) ask how large a violation of parallel trends after treatment would have to be to
# overturn the conclusion, measuring it against the pre-treatment violations. Run it on a heterogeneity-robust event
# study: the TWFE event study's leads are contaminated by other cohorts' effects (see below), and the bounds would
# inherit that. The event study must have one common reference period (Callaway-Sant'Anna with
# `base_period="universal"`, reference -1) and no binned end points: `aggregate("dynamic", min_e=-4, max_e=3)` keeps
# event times -4..3 and drops the others rather than pooling them.
#
# Two restrictions on the post-treatment violation delta_t (the bias of the event-time estimate at t):
#
# * **relative magnitudes** (`Mbar`): each change of the violation between consecutive post-treatment periods,
#   |delta_{t+1} - delta_t|, is at most `Mbar` times the largest change between consecutive pre-treatment periods.
#   It bounds *period-to-period changes*, not levels: `Mbar = 1` allows the post-period violation to move each
#   period as much as the pre-trend moved in its worst period, so the bound on the level grows with t.
# * **smoothness** (`M`): the slope of the violation changes by at most `M` between consecutive periods,
#   |(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M. `M = 0` allows exactly a linear trend extrapolated
#   from the pre-periods; larger `M` allows it to bend.
#
# The **breakdown value** is the largest `Mbar` (or `M`) whose robust confidence set still excludes 0. The target is
# the effect at event time 0.

# %%
cs_u = did.att_gt(df, "log_income_ratio", "unit", "year", "cohort", base_period="universal")
dyn = cs_u.aggregate("dynamic", min_e=-4, max_e=3)
rm = did.honest(dyn, method="relative_magnitudes", Mbar=[0, 0.5, 1.0, 1.5, 2.0])
print(rm.summary())
fig, ax = rm.plot()  # the original interval and one robust set per Mbar

# %%
sd = did.honest(dyn, method="smoothness", M=[0, 0.005, 0.01, 0.02, 0.03])
print(sd.summary())
fig, ax = sd.plot()

# %% [markdown]
# The effect at adoption is about -0.030 (s.e. 0.006). It stays negative as long as post-treatment violations change
# by up to about 1.1 times the largest pre-period change (relative magnitudes), or as long as the violation's slope
# bends by up to about 0.02 per period (smoothness). Whether that is reassuring depends on what violations are
# plausible in the application, which the data cannot tell.

# %%
widths = rm.tidy().assign(width=lambda t: t.conf_high - t.conf_low)["width"].to_numpy()[1:]
assert (widths[1:] >= widths[:-1] - 1e-12).all()  # larger Mbar, wider robust confidence set
assert 1.0 < rm.breakdown < 1.3, rm.breakdown  # 1.15 in this draw (grid search, 3 digits)
assert 0.015 < sd.breakdown < 0.03, sd.breakdown  # 0.0223 in this draw

# %% [markdown]
# Note that the TWFE event study's leads here are *not* zero although the design has no pre-trend: they too are
# contaminated by other cohorts' effects (Sun and Abraham 2021). Its pre-trend test rejects for that reason
# alone -- another reason to read the robust estimators' leads instead.

# %%
es = did.event_study(df, "log_income_ratio", "unit", "year", "cohort", window=(-4, 4))
print(es.pretrend_test())

# %% [markdown]
# ## Exercises
# 1. Set `SLOPES = (0.02, 0.02, 0.02)` and the effect constant (`shape="constant"` in a `DesignParams` passed to
#    `econ.simulate.draw_panel`): how large is the TWFE bias now? Why does Bacon's "later vs earlier" term stop
#    hurting?
# 2. Set `NEVER_SHARE = 0.5`. What happens to the weight on forbidden comparisons?
# 3. Run `did.att_gt(df, "log_income_ratio", "unit", "year", "cohort", control="notyet")` and compare with the
#    never-treated comparison group. Try `base_period="universal"` and compare the leads.
# 4. On the bundled Broadband China demonstration panel (`econ.datasets.load("china_cities_demo")`, unit
#    `prefecture_code`, cohorts 2014/2015/2016) run `did.compare` and compare with
#    `econ.datasets.truth("china_cities_demo")["att_overall"]`.
#
# ```{admonition} Solutions (2 and 3)
# :class: dropdown
# 2. With `NEVER_SHARE = 0.5` the weight on forbidden ("later vs earlier") comparisons falls from 0.479 to 0.162:
#    the never-treated group is a larger share of the variance in treatment, so TWFE leans more on clean
#    comparisons, and its estimate moves from +0.011 (wrong sign) to -0.042, still far from the true -0.102. Fewer
#    forbidden comparisons reduce the bias but do not remove it; the robust estimators do not depend on that share.
# 3. With `control="notyet"` each ATT(g, t) also uses the cohorts not yet treated at t as controls: more comparison
#    units, hence somewhat smaller standard errors, and the same target when parallel trends hold for every cohort
#    (they do in this design, so the estimates differ only by noise: the overall ATT is -0.108, s.e. 0.009, with
#    never-treated and -0.105, s.e. 0.0085, with not-yet-treated controls; the truth is -0.102).
#    With `base_period="universal"` every lead is measured against period g - 1 (a level relative to one base)
#    instead of against the period before it (a one-period change, the "varying" default), so the leads read like
#    an event-study plot; it is the base HonestDiD needs.
# ```
