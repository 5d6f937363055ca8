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
# * `kind="fake_timing"` (with `shift`): pretend treatment came `shift` periods early, on pre-treatment data only;
#   a pre-trend (or anticipation, or spillover) check.
#
# **Pitfalls shown below.** (1) Too few draws: the smallest attainable p-value is `1 / (1 + n_draws)`.
# (2) A "significant" fake-timing placebo does not always mean a pre-trend: spillovers from earlier-treated
# neighbours contaminate later cohorts' pre-periods.

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
# Move every cohort two years earlier and keep only pre-treatment observations. The true pre-treatment effect of
# this design is zero, so the fake estimate should be small next to the actual effect. The bundled design also has
# a spillover onto neighbours of treated cities (neighbours of the 2014 cohort that are themselves treated in
# 2016 are affected in their "pre-treatment" years); compare with the same design redrawn without it.

# %%
fake = did.placebo(*args, cohort="cohort", kind="fake_timing", shift=2, n_draws=199, progress=False)
clean = china_cities_demo(params=DesignParams(spillover=0.0)).data
fake0 = did.placebo(clean, "log_income_ratio", "prefecture_code", "year", cohort="cohort", kind="fake_timing",
                    shift=2, n_draws=199, progress=False)
print(f"actual TWFE estimate:           {many.estimate:+.4f}")
print(f"fake timing, with spillover:    estimate {fake.estimate:+.4f}  p = {fake.pvalue:.3f}")
print(f"fake timing, without spillover: estimate {fake0.estimate:+.4f}  p = {fake0.pvalue:.3f}")
assert abs(fake.estimate) < 0.25 * abs(many.estimate) and abs(fake0.estimate) < 0.25 * abs(many.estimate)

# %% [markdown]
# Both fake estimates are a fifth of the actual effect or less, but their permutation p-values are small: the
# placebo distribution of a *pre-treatment* regression is very tight (placebo s.d. about 0.003), so even a small
# systematic difference between early and late adopters' pre-periods is "significant". A rejection tells you that
# something differs before adoption, not that the effect estimate is wrong -- look at its size (exercise 4).

# %% [markdown]
# ## Exercises
# 1. Draw `n_draws=999` with two different seeds: how much does the p-value move? (Monte Carlo error of a p-value
#    near p is about `sqrt(p (1 - p) / n_draws)`.)
# 2. Set `DesignParams(peak_effect={2014: 0, 2015: 0, 2016: 0}, spillover=0)` in `china_cities_demo`: repeat the
#    `permute_units` test for 20 seeds of the design. How often is p < 0.05?
# 3. Which kind would you use if provinces chose the cities but the ministry chose the year? Why?
# 4. Plot the event study of the demonstration panel (`did.event_study`) and find the pre-period coefficients the
#    fake-timing placebo is picking up.
