# %% [markdown]
# # The urban-rural income gap from household surveys: three estimators, one truth
#
# **Question.** Did Broadband China narrow the income gap between urban and rural residents? With household
# survey data (households nested in prefectures, urban or rural, surveyed over several years, with sampling
# weights) there are three ways to ask: (a) collapse the households to a **prefecture panel of the gap** and run
# a DiD on it; (b) a **triple difference** on the households (`econ.did.ddd_gt`): rural vs urban, designated vs
# not, after vs before; (c) when the survey draws new households every year, **repeated cross-section DiDs**
# (`att_gt(panel=False)`) for rural and urban households, and their difference. **Pitfall.** A DiD on rural
# households alone compares designated with other prefectures, and designated prefectures may be on a different
# path anyway (they were selected): the urban households of the same prefectures are the natural control for
# that.
#
# `econ.simulate.household_survey` draws such a survey with known truth: designation raises rural log income by
# `tau(e) = effect + growth * e` in event year `e` (so it narrows the urban-minus-rural gap by as much), leaves
# urban households alone, and designated prefectures trend up for everyone (`cohort_trend`). Rural households are
# over-sampled (`rural_sampling`), so each household carries a sampling weight.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from econ import did
from econ.simulate import household_survey

SEED = 0
panel_sim = household_survey(design="panel", seed=SEED)  # the same households every year
df = panel_sim.data
params = panel_sim.truth["params"]
print(df.head(3))
print(f"{df.prefecture.nunique()} prefectures, {df.household.nunique()} households, years "
      f"{df.year.min()}-{df.year.max()}, cohorts {params['cohorts']}")
truth_e = panel_sim.true_att("event_time")  # rural households' ATT by event time = tau(e), for every cohort
print("true effect on rural log income by event time:", truth_e.round(3).to_dict())

# %% [markdown]
# **The estimand.** The gap is `urban - rural` mean log income, so the effect on the gap is `-tau(e)`. Because
# `tau(e)` is the same for every cohort, each event time has one truth whatever weights an estimator gives the
# cohorts; we compare the event-study paths, and their average over the post-treatment event times (the
# `"dynamic"` aggregation's overall effect), whose truth is the mean of `-tau(e)` over those event times.

# %%
TRUE_GAP = -float(truth_e.mean())  # the dynamic aggregation weighs event times 0..5 equally
print(f"true average effect on the gap, event times {truth_e.index.min()}..{truth_e.index.max()}: {TRUE_GAP:.4f}")

# %% [markdown]
# ## Sampling weights: what they fix here
# The survey over-samples rural households, so the sample is more rural than the population. A sampling weight
# (the inverse of the inclusion probability) restores the population's shares. Any statistic that *pools* urban
# and rural households, such as a prefecture's mean income, is wrong without it; statistics computed *within*
# urban or within rural households are not affected here, because all households of a group have the same weight.

# %%
print(f"rural share: sample {df.rural.mean():.3f}, weighted {np.average(df.rural, weights=df.weight):.3f}, "
      f"population {params['rural_share']}")
def weighted_means(data, by):
    """Sampling-weighted mean log income within the groups ``by``."""
    sums = data.assign(wy=data.weight * data.log_income).groupby(by)[["wy", "weight"]].sum()
    return sums.wy / sums.weight


pooled = weighted_means(df, ["prefecture", "year"]) - df.groupby(["prefecture", "year"]).log_income.mean()
print(f"mean log income of a prefecture-year, weighted minus unweighted: {pooled.mean():.4f} "
      "(without weights the over-sampled rural households pull it down)")
assert (pooled > 0).mean() > 0.9
assert abs(np.average(df.rural, weights=df.weight) - params["rural_share"]) < 0.03

# %% [markdown]
# ## (a) A prefecture panel of the gap, and `att_gt`
# Collapse each prefecture-year to `gap = mean log income (urban) - mean log income (rural)`, with sampling
# weights within each group (constant there, so plain means), and run Callaway-Sant'Anna on the prefectures.
# The common shock to designated prefectures hits both groups and cancels in the gap.

# %%
means = weighted_means(df, ["prefecture", "year", "cohort", "rural"]).unstack("rural")
gap = (means[0] - means[1]).rename("gap").reset_index()
print(gap.head(3))
cs_gap = did.att_gt(gap, "gap", "prefecture", "year", "cohort")
a = cs_gap.aggregate("dynamic")
print(f"(a) effect on the gap: {a.overall_att:.4f} (s.e. {a.overall_se:.4f}); truth {TRUE_GAP:.4f}")

# %% [markdown]
# ## (b) The household triple difference, `ddd_gt`
# Rural households are the eligible group (`group="rural"`): designation reaches them. For cohort g and period t
# `ddd_gt` combines three 2x2 DiDs of the designated prefectures' rural households, against (1) their urban
# neighbours, (2) rural and (3) urban households of the comparison prefectures; with no covariates this is the
# rural DiD minus the urban DiD, i.e. the effect on `rural - urban` log income. The effect on the urban-rural gap
# is minus the DDD. Sampling weights enter as `weights=`, inference is clustered by prefecture (the level at which
# designation is assigned).

# %%
ddd = did.ddd_gt(df, "log_income", "household", "year", "cohort", "rural", weights="weight",
                 vcov={"CL1": "prefecture"})
b = ddd.aggregate("dynamic")
print(f"(b) DDD (rural - urban): {b.overall_att:.4f} (s.e. {b.overall_se:.4f}) -> effect on the gap "
      f"{-b.overall_att:.4f}; truth {TRUE_GAP:.4f}")
b_unweighted = did.ddd_gt(df, "log_income", "household", "year", "cohort", "rural",
                          vcov={"CL1": "prefecture"}).aggregate("dynamic")
print(f"    without sampling weights: {b_unweighted.overall_att:.4f} (s.e. {b_unweighted.overall_se:.4f})")
assert abs(b_unweighted.overall_att - b.overall_att) < 0.1 * b.overall_se  # see "Sampling weights" below

# %% [markdown]
# **The survey design.** Household surveys are drawn in stages: here prefectures are the primary sampling units
# (PSUs), and a real survey would also give strata and, for a large sampling fraction, a finite-population
# correction. `vcov={"survey": {"psu": ..., "strata": ..., "fpc": ...}}` (or an `econ.survey.SurveyDesign`) replaces
# the cluster sum by the Taylor-linearised between-PSU variance of the influence functions, as R's `survey`
# package does; `weights=` keeps its one meaning. With PSUs only (one stratum, no fpc) it is the prefecture-clustered
# variance times the survey's G/(G-1).

# %%
b_survey = did.ddd_gt(df, "log_income", "household", "year", "cohort", "rural", weights="weight",
                      vcov={"survey": {"psu": "prefecture"}}).aggregate("dynamic")
G = df["prefecture"].nunique()
print(f"    survey design (PSU = prefecture): s.e. {b_survey.overall_se:.4f}; clustered x sqrt(G/(G-1)) = "
      f"{b.overall_se * np.sqrt(G / (G - 1)):.4f}")
assert abs(b_survey.overall_se - b.overall_se * np.sqrt(G / (G - 1))) < 1e-10

# the pitfall: a DiD on rural households alone also picks up the designated prefectures' own trend
rural_only = did.att_gt(df[df.rural == 1], "log_income", "household", "year", "cohort", weights="weight",
                        vcov={"CL1": "prefecture"}).aggregate("dynamic")
print(f"rural households only: {rural_only.overall_att:.4f} (s.e. {rural_only.overall_se:.4f}) vs the true "
      f"{-TRUE_GAP:.4f}: biased by the designated prefectures' trend ({params['cohort_trend']} a year)")

# %% [markdown]
# ## (c) Repeated cross-sections: `att_gt(panel=False)` for rural and for urban households
# Many surveys draw new households each year. Then there is no household to follow, and each (g, t) cell compares
# the cohort's mean in t and in the base period across *different* households (Sant'Anna and Zhao's
# repeated-cross-section estimator; `unit` is a row id). The gap effect is the urban DiD minus the rural DiD. Each
# household's own income level no longer cancels, so the same number of interviews gives much noisier estimates;
# this survey interviews three times as many households a year.

# %%
rcs = household_survey(design="rcs", households=3 * params["households"], seed=SEED).data
assert rcs["household"].is_unique  # a fresh sample every year
fits = {}
for name, flag in (("rural", 1), ("urban", 0)):
    fits[name] = did.att_gt(rcs[rcs.rural == flag], "log_income", "household", "year", "cohort", panel=False,
                            weights="weight", vcov={"CL1": "prefecture"}).aggregate("dynamic")
c_est = fits["urban"].overall_att - fits["rural"].overall_att
c_se = float(np.hypot(fits["urban"].overall_se, fits["rural"].overall_se))  # the two samples taken as independent
print(f"(c) urban DiD - rural DiD: {c_est:.4f} (s.e. {c_se:.4f}); truth {TRUE_GAP:.4f}")

# the same comparisons in one call, with joint (prefecture-clustered) inference
ddd_rc = did.ddd_gt(rcs, "log_income", "household", "year", "cohort", "rural", panel=False, weights="weight",
                    vcov={"CL1": "prefecture"}).aggregate("dynamic")
print(f"    ddd_gt(panel=False): {-ddd_rc.overall_att:.4f} (s.e. {ddd_rc.overall_se:.4f})")

# %% [markdown]
# ## The three side by side

# %%
table = pd.DataFrame([
    ("(a) prefecture gap panel, att_gt", "panel", len(gap), a.overall_att, a.overall_se),
    ("(b) households, ddd_gt", "panel", len(df), -b.overall_att, b.overall_se),
    ("(c) rural and urban att_gt(panel=False)", "repeated cross-sections", len(rcs), c_est, c_se),
    ("rural households only, att_gt (pitfall)", "panel", int((df.rural == 1).sum()), -rural_only.overall_att,
     rural_only.overall_se),
], columns=["estimator", "survey", "rows", "effect_on_gap", "std_error"])
table["truth"] = TRUE_GAP
table["error_in_se"] = (table.effect_on_gap - table.truth) / table.std_error
print(table.round(4).to_string(index=False))
assert (table.error_in_se.abs().iloc[:3] < 3).all()  # the three recover the truth
assert table.error_in_se.abs().iloc[3] > 3  # rural-only misses it
assert abs(a.overall_att + b.overall_att) < 0.5 * b.overall_se  # (a) and (b) agree closely
assert c_se > 2 * b.overall_se  # repeated cross-sections are far less precise, with 3x the interviews

# %%
paths = {"(a) gap panel": a.tidy().assign(sign=1.0), "(b) ddd_gt": b.tidy().assign(sign=-1.0)}
ur, ru = fits["urban"].tidy().set_index("event_time"), fits["rural"].tidy().set_index("event_time")
paths["(c) RCS urban - rural"] = pd.DataFrame({
    "event_time": ur.index, "estimate": (ur.estimate - ru.estimate).to_numpy(),
    "std_error": np.hypot(ur.std_error, ru.std_error).to_numpy(), "sign": 1.0})
fig, ax = plt.subplots(figsize=(8, 4.5))
for k, (name, p) in enumerate(paths.items()):
    est, se = p["sign"] * p["estimate"], p["std_error"]
    ax.errorbar(p["event_time"] + (k - 1) * 0.15, est, yerr=1.96 * se, fmt="o", capsize=3, label=name)
e = np.arange(a.tidy().event_time.min(), truth_e.index.max() + 1)
ax.plot(e, np.where(e >= 0, -(params["effect"] + params["growth"] * e), 0.0), "k--", label="truth")
ax.axhline(0, color="grey", lw=0.8)
ax.set_xlabel("years since designation")
ax.set_ylabel("effect on urban - rural log income")
ax.legend(frameon=False)
fig.tight_layout()

# %% [markdown]
# **Reading the comparison.** All three recover the truth within three standard errors, the rural-only DiD does
# not, and (a) and (b), on the same households, agree closely (all asserted with the table): (a) weighs
# prefectures equally, (b) weighs households by their sampling weights, and the truth is the same for both here
# because the effect does not vary across prefectures. (c) is much less precise, with three times the
# interviews, because it cannot difference out each household's own level. Which to use is decided by the
# survey, not by taste: with a panel, (b) uses the most information and allows household covariates; with
# fresh samples, (c) (or `ddd_gt(panel=False)`, which gives the same comparison with joint inference); (a) works
# with either, as long as every prefecture-year has both urban and rural households, and it is what one can do
# with published prefecture tables.
#
# ## Sampling weights vs regression weights
# * **Sampling weights** (`weights=` in `att_gt`/`ddd_gt` on household data) say how many population households
#   each sampled household stands for. They change *what* is estimated -- the population's average, not the
#   sample's -- and they are needed whenever the sample design over-represents some households in a way
#   correlated with the outcome or the effect. Here they are constant within urban and rural households, so they
#   cancel inside every comparison that keeps the two groups apart; they enter only through the cohort shares
#   that aggregate the cells.
# * **Regression weights** in the collapsed panel (a) (e.g. `weights=` a prefecture's population in `att_gt`)
#   decide how much each *prefecture* counts: population-weighted answers "the average resident's gap",
#   unweighted answers "the average prefecture's gap". Both are legitimate and different when effects differ by
#   prefecture size. Weighting by the number of sampled households instead is a precision choice, not a
#   population one.
#
# Standard errors here treat the prefectures as independently sampled and cluster at the prefecture; they do not
# model a multi-stage design's strata.
#
# ## Exercises
# 1. Draw the survey with `design="unbalanced"` (each household-year kept with probability `keep_share`) and run
#    (b) on it: `ddd_gt` needs a balanced panel -- keep the balanced households, or use
#    `att_gt(..., allow_unbalanced_panel=True)` on each group.
# 2. Set `cohort_trend=0`: the rural-only DiD is now unbiased. Is it more or less precise than (b)?
# 3. Set `rural_sampling=1` (a proportional sample): what happens to the weights and to the estimates?
