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
# explicitly. Here the real county panel `mpdta` (Callaway and Sant'Anna 2021 minimum-wage data, bundled) stands
# in for "your" panel.

# %%
mpdta = econ.datasets.data_path("mpdta.csv")
own = econ_cli("replicate", "K1", "--out", str(out / "own"), "--data", str(mpdta), "--map",
               "unit=countyreal,time=year,cohort=first.treat,outcome=lemp,psm_covariates=lpop")
assert own.returncode in (0, 1), own.stderr  # 1 = the claim's checks do not all hold on this panel
result = json.loads((out / "own" / "K1" / "result.json").read_text())
print({k: result[k] for k in list(result)[:6]})

# %% [markdown]
# ## Exercises
# 1. Open `replication/claims.toml` and find K1's checks: which quantity, which tolerance, which rule?
# 2. Edit one number in `results/K1/estimates.csv` and run `econ verify K1`: what does it report?
# 3. Save `econ.datasets.load("china_cities_demo")` as a `.dta` (`DataFrame.to_stata`) and run K1 on it with
#    `--map unit=prefecture_code,time=year,cohort=cohort,outcome=log_income_ratio`.
