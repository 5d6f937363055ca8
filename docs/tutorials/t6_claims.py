# %% [markdown]
# # Replicate a claim and check it
#
# Every published claim the package tests is an entry of `replication/claims.toml` (statement, original quote,
# source, checks with tolerances) plus one script `replication/<id>_<slug>.py`. Three commands:
#
# * `econ replicate [ID ...]` runs claims and writes `results/<id>/` (tables, figures, `result.json`, a manifest
#   with the SHA-256 of every file);
# * `econ verify [ID ...]` re-runs them from scratch and compares with the stored results and
#   `replication/expected/`;
# * `econ replicate K1 --data your_panel.dta --map unit=...,time=...` runs a causal claim on *your* panel.
#
# **Pitfall.** A claim's verdict on the bundled data can only be as strong as the data: the city-level outcomes
# bundled here are SIMULATED, so the causal claims report "not testable with bundled data" and only verify the
# pipeline (on a design with known truth). **Fix.** Run the claim on a real panel with `--data`.

# %%
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import econ

out = Path(tempfile.mkdtemp()) / "results"


def econ_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "econ", *args, "--no-progress"], capture_output=True, text=True)
    print(proc.stdout[-2500:])
    return proc


run = econ_cli("replicate", "K1", "--out", str(out))
assert run.returncode == 0, run.stderr
print(sorted(p.name for p in (out / "K1").iterdir()))

# %% [markdown]
# The figures are files like every other output; here is the claim's event-study figure as the script wrote it.

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.imshow(plt.imread(out / "K1" / "event_study.png"))
ax.axis("off")

# %% [markdown]
# ## Check it

# %%
check = econ_cli("verify", "K1", "--results", str(out))
assert check.returncode == 0, check.stderr

# %% [markdown]
# ## Run the claim on your own panel
# Any long panel in CSV, Stata `.dta` or parquet works; nothing is guessed, every column role is mapped
# explicitly. Here the real county panel `mpdta` (Callaway and Sant'Anna 2021: minimum wages and teen employment,
# bundled) stands in for "your" panel. It has nothing to do with Broadband China, and the verdict must not pretend
# otherwise.

# %%
mpdta = econ.datasets.data_path("mpdta.csv")
own = econ_cli("replicate", "K1", "--out", str(out / "own"), "--data", str(mpdta), "--map",
               "unit=countyreal,time=year,cohort=first.treat,outcome=lemp,psm_covariates=lpop")
assert own.returncode in (0, 1), own.stderr
result = json.loads((out / "own" / "K1" / "result.json").read_text())
print(result["verdict"]["text"])
print(result["notes"][0])
for c in result["checks"]:
    print(f"{c['role']:<10} {c['name']:<20} {c['status']:<8} {c['detail'][:70]}")

# %% [markdown]
# ## How to read a verdict on your data
# The verdict speaks about **your file**, not about the claim's source. A statement about Broadband China cannot
# "hold" on a minimum-wage panel; what the file can show is whether the estimated effect of *its* treatment on
# *its* outcome (`lemp`, named as in your columns) goes in the direction the claim states, how large it is and how
# uncertain:
#
# * **consistent with the claim's direction**: every primary check passes (here: the Callaway-Sant'Anna ATT is
#   negative and its one-sided p-value is below 5%);
# * **not consistent with the claim's direction**: the primary estimate has the other sign;
# * **not established**: e.g. the sign is right but the test does not reject. A test that does not reject is not
#   evidence against a claim (nor for "no effect" or "equal effects", as K3's equality test shows): it may simply
#   lack power;
# * **treatment moves the channel** (K4): only the first link, treatment -> channel, was tested (with Holm's
#   correction across channels); nothing is said about the channel moving the outcome;
# * **not testable**: a role the check needs was not mapped.
#
# The **primary** check is a heterogeneity-robust estimator (Callaway-Sant'Anna with never-treated controls), because
# under staggered adoption with effects that grow over time TWFE can even take the wrong sign (tutorial T3); TWFE,
# PSM-DiD, imputation and the permutation placebo are **comparisons** (supporting checks, listed in the verdict when
# they disagree). The pre-trend test is **reported, not counted**: failing to reject parallel pre-trends is no
# evidence that they hold (tutorial T2), so it can never earn the claim a pass.

# %%
checks = {c["name"]: c for c in result["checks"]}
assert result["verdict"]["label"] == "consistent with the claim's direction"
assert "hold" not in result["verdict"]["text"] and "urban" not in result["notes"][0]
assert {n for n, c in checks.items() if c["role"] == "primary"} == {"cs_effect", "cs_pvalue_less"}
assert checks["pretrend_pvalue"]["status"] == "reported"
# R did: att_gt(yname = "lemp", ..., control_group = "nevertreated") |> aggte("simple"): ATT -0.0400, s.e. 0.0118
assert abs(checks["cs_effect"]["value"] - (-0.0400)) < 5e-5

# %% [markdown]
# ## A dose, or household data (K1 only)
# Four more roles change what K1 estimates (`econ replicate --help` lists every role):
#
# | role | what it is | what K1 does with it |
# | --- | --- | --- |
# | `dose` | a treatment intensity, fixed within unit, several positive values | also runs the dose-response DiD (`econ.did.cont_did`: ATT^o, ACRT^o, the curves ATT(d) and ACRT(d), a table and two figures) **next to** the binary estimates; the verdict stays about the binary claim (the slope needs strong parallel trends) |
# | `group` | 0/1, 1 = the eligible subgroup (rural households), fixed within unit | reads the file as household microdata and runs the staggered triple difference rural x designated x after (`econ.did.ddd_gt`); the primary checks take its effect on the **urban-rural gap** (minus the rural households' ATT: negative = the gap narrows) |
# | `cluster` | with `group`: the place designation is assigned to (e.g. prefecture) | clusters the triple difference's standard errors (default: the household) |
# | `sampling_weight` | with `group`: the survey's weight, fixed within household | weights the triple difference (default: unweighted) |
#
# ```text
# econ replicate K1 --data cities.csv --map unit=city,time=year,cohort=bbc_year,outcome=log_ratio,dose=bbc_share
# econ replicate K1 --data households.csv \
#     --map unit=household,time=year,cohort=cohort,outcome=log_income,group=rural,cluster=prefecture,sampling_weight=weight
# ```
#
# The household file's sampling is read from the data: household ids that never repeat are repeated cross-sections,
# ids observed in every year a balanced panel, anything in between an unbalanced panel (estimated as repeated
# cross-sections, clustered by household unless `cluster` is mapped). A `dose` that is a 0/1 dummy, negative, empty
# or 0 for a treated unit, or varies within a unit, and a `group` that is not 0/1, has more than two values or varies
# within a unit, are refused with a message naming the column and the units. K2-K4 refuse these roles.

# %% [markdown]
# ## Exercises
# 1. Open `replication/claims.toml` and find K1's checks: which quantity, which rule, which role? Why is
#    `pretrend_pvalue` `role = "reported"`?
# 2. Edit one number in `results/K1/estimates.csv` and run `econ verify K1`: what does it report?
# 3. Run K1 on `mpdta` again without `psm_covariates=lpop` in `--map`: which check becomes not testable, and does
#    the verdict change?
#
# ```{admonition} Solutions
# :class: dropdown
# 1. `cs_effect` (rule `less_than`, expected 0) and `cs_pvalue_less` (less than 0.05) are primary; TWFE, placebo,
#    PSM-DiD and imputation are supporting; `pretrend_pvalue` is reported because a non-rejection is no evidence of
#    parallel trends, so counting it as a pass would reward low power.
# 2. `econ verify` reports that file's SHA-256 no longer matches the manifest and exits with a non-zero status.
# 3. `psm_effect` becomes not testable ("role 'psm_covariates' is not mapped"). It is a supporting check, so the
#    verdict does not change: a supporting check that cannot be computed is listed, never lowers the verdict.
# ```
