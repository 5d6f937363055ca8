# %% [markdown]
# # Randomization inference: what the placebo distribution means
#
# `econ.did.placebo` re-assigns treatment many times, recomputes the TWFE DiD estimate for every placebo
# assignment, and compares the actual estimate with that distribution:
# `p = (1 + #{|b_j| >= |est|}) / (1 + n_draws)` (the actual assignment counts as one draw, so p is never 0).
#
# Which permutation matches which design?
#
# * `kind="permute_units"`: who is treated was as good as random; keeps the real cohort sizes.
# * `kind="permute_cohorts"`: who is treated is fixed, the *timing* among treated units was as good as random.
# * `kind="fake_timing"` (with `shift`): pretend treatment came `shift` periods early, on the years before the
#   first cohort only (the same rows for every unit); a placebo check in the pre-treatment years.
#
# What "exact" means: the permutation p-value is exact (P(p <= alpha) <= alpha at any sample size) for the **sharp
# null** that the (fake) treatment changes no unit's outcome, *under the assumption* that the permuted assignments
# were as likely as the real one. It is not a test of parallel trends: a rejection says only that the estimate is
# unusual among the permuted assignments (an effect, a differential trend or a non-random assignment could each cause
# that), and a non-rejection does not show that trends are parallel.
#
# **Pitfalls shown below.** (1) Too few draws: the smallest attainable p-value is `1 / (1 + n_draws)`.
# (2) One small fake-timing p-value is not yet a pre-trend: under the null the test rejects 5% of the time, and
# the bundled draw happens to be one of those times.

# %%
import econ
from econ import did
from econ.simulate import DesignParams, china_cities_demo

df = econ.datasets.load("china_cities_demo")  # SIMULATED outcomes, real units and Broadband China cohorts
args = (df, "log_income_ratio", "prefecture_code", "year")

# %% [markdown]
# ## Pitfall 1: too few draws

# %%
few = did.placebo(*args, cohort="cohort", kind="permute_units", n_draws=19, progress=False)
many = did.placebo(*args, cohort="cohort", kind="permute_units", n_draws=499, progress=False)
print(few.summary())
print(many.summary())
fig, ax = many.plot()
assert few.pvalue == 1 / 20          # the floor: no assignment beat the actual one, yet p = 0.05
assert many.pvalue == 1 / 500

# %% [markdown]
# ## Timing only: `permute_cohorts`
# Holding the treated set fixed, shuffling the 2014/2015/2016 years asks whether the *timing* carries
# information. With effects that ramp up, the real timing fits better than shuffled timings.

# %%
timing = did.placebo(*args, cohort="cohort", kind="permute_cohorts", n_draws=199, progress=False)
print(timing.summary())

# %% [markdown]
# ## Fake timing: a pre-trend check on pre-treatment data only
# Move every cohort two years earlier and keep only the years before the first cohort (2008-2013): the 2014 cohort
# is "treated" from 2012, the 2015 cohort from 2013, and the 2016 cohort (fake date 2014) stays untreated in that
# window. Every unit keeps the same years whatever its cohort, so permuting the fake cohorts across units gives an
# exact test of the sharp null "the fake treatment changed no outcome", valid if the fake cohorts were as good as
# randomly assigned. It is a placebo check, not a test of parallel trends: it has power against pre-period
# differences that line up with the fake dates, and a non-rejection is no evidence that trends are parallel
# (tutorial T2). No unit is treated before 2014, so neither the effects nor
# the spillover onto neighbours reach the window: the design without spillover gives the same numbers.

# %%
fake = did.placebo(*args, cohort="cohort", kind="fake_timing", shift=2, n_draws=199, progress=False)
clean = china_cities_demo(params=DesignParams(spillover=0.0)).data
fake0 = did.placebo(clean, "log_income_ratio", "prefecture_code", "year", cohort="cohort", kind="fake_timing",
                    shift=2, n_draws=199, progress=False)
print(fake.summary())
print(f"actual TWFE estimate: {many.estimate:+.4f}; fake timing {fake.estimate:+.4f} (p = {fake.pvalue:.3f})")
assert abs(fake.estimate - fake0.estimate) < 1e-12   # the window is untouched by effects and spillovers
assert abs(fake.estimate) < 0.3 * abs(many.estimate) and fake.pvalue < 0.05

# %% [markdown]
# The simulated design has no pre-trend, yet p < 0.05: is the test broken? Redraw the design (same truth, new
# noise) and count rejections. Under the null the test rejects 5% of the time (over 1,500 redraws: 5.1%), and the
# bundled draw is simply one of those 1-in-20 draws. A single rejection tells you to look closer (event study,
# exercise 4), not that the design is broken -- and the fake estimate is a quarter of the actual effect.

# %%
redraws = [did.placebo(china_cities_demo(seed=s).data, "log_income_ratio", "prefecture_code", "year",
                       cohort="cohort", kind="fake_timing", shift=2, n_draws=99, seed=s, progress=False).pvalue
           for s in range(1, 21)]
print(f"fake-timing rejections at 5% in 20 redraws: {sum(p <= 0.05 for p in redraws)}")
assert sum(p <= 0.05 for p in redraws) <= 4   # 1 expected; 5 or more has probability 0.003 under the null

# %% [markdown]
# ## Exercises
# 1. Draw `n_draws=999` with two different seeds: how much does the p-value move? (Monte Carlo error of a p-value
#    near p is about `sqrt(p (1 - p) / n_draws)`.)
# 2. Set `DesignParams(peak_effect={2014: 0, 2015: 0, 2016: 0}, spillover=0)` in `china_cities_demo`: repeat the
#    `permute_units` test for 20 seeds of the design. How often is p < 0.05?
# 3. Which kind would you use if provinces chose the cities but the ministry chose the year? Why?
# 4. Plot the event study of the demonstration panel (`did.event_study`) and find the pre-period coefficients the
#    fake-timing placebo is picking up.
#
# ```{admonition} Solutions (1 and 3)
# :class: dropdown
# 1. With `n_draws=999` and seeds 0 and 1 the p-value is 0.001 both times: no placebo estimate comes close to the
#    actual one (the largest placebo |estimate| is about 0.013 against |-0.043|), so p sits at its floor
#    1 / (1 + 999) whatever the seed. The Monte Carlo error formula matters for p-values away from the floor: at
#    p = 0.05 with 999 draws it is sqrt(0.05 x 0.95 / 999), about 0.007, so report p to two digits, not four.
# 3. `kind="permute_cohorts"`: the set of treated cities was chosen by the provinces (not random, so permuting
#    units across treated and untreated would compare like with unlike), while the year was as good as random given
#    that set, which is exactly the assignment `permute_cohorts` re-draws. Its sharp null is then "the timing
#    changed no outcome among the treated cities".
# ```
