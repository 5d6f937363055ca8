"""The headline table of a staggered-DiD paper: TWFE, Callaway-Sant'Anna, Sun-Abraham and imputation side by side,
one ``ATT`` row, event-time rows ``e = k`` in event-time order, sample rows; Markdown, LaTeX and HTML."""

import re

import numpy as np
import pytest

import econ
from econ import datasets, did
from econ.errors import SpecificationError

MP = ("lemp", "countyreal", "year", "first.treat")


@pytest.fixture(scope="module")
def fits():
    d = datasets.load("mpdta")
    d = d.assign(treated=((d["first.treat"] > 0) & (d["year"] >= d["first.treat"])).astype(int))
    twfe = did.twfe(d, "lemp", "countyreal", "year", "treated")
    cs = did.att_gt(d, *MP, n_draws=0)
    return [twfe, cs.aggregate("simple"), did.sun_abraham(d, *MP), did.imputation(d, *MP)]


def _row(text: str, label: str) -> list[str]:
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no row {label!r} in\n{text}")


def test_one_att_row_with_four_estimates_and_their_standard_errors(fits):
    text = econ.etable(fits, rename={"treated": "ATT"}, digits=4)
    assert sum(1 for line in text.splitlines() if line.startswith("| ATT |")) == 1
    att = _row(text, "ATT")
    expected = [fits[0].coef["treated"], fits[1].coef["ATT"], fits[2].overall_att, fits[3].overall_att]
    got = [float(re.sub(r"\*+$", "", c)) for c in att]
    np.testing.assert_allclose(got, expected, atol=5e-5)
    lines = text.splitlines()
    se = [c.strip() for c in lines[lines.index(next(x for x in lines if x.startswith("| ATT |"))) + 1]
          .strip().strip("|").split("|")][1:]
    want = [fits[0].se["treated"], fits[1].se["ATT"], fits[2].overall_se, fits[3].overall_se]
    np.testing.assert_allclose([float(c.strip("()")) for c in se], want, atol=5e-5)
    # R did / fixest sunab / didimputation on mpdta: CS simple ATT -0.0400, SA -0.0400 (never treated), BJS -0.0477
    assert abs(expected[1] - (-0.0400)) < 5e-4 and abs(expected[3] - (-0.0477)) < 5e-4


def test_sample_rows_estimator_control_group_and_fixed_effects(fits):
    text = econ.etable(fits, rename={"treated": "ATT"})
    assert _row(text, "Observations") == ["2,500"] * 4  # rows used, not the 500 units
    assert _row(text, "Units") == ["500"] * 4
    assert _row(text, "Estimator") == ["TWFE", "Callaway-Sant'Anna", "Sun-Abraham", "Imputation (BJS)"]
    assert _row(text, "Control group")[1:3] == ["Never treated", "Never treated"]
    fe = _row(text, "countyreal FE")
    assert fe[0] == "Yes" and fe[2] == "Yes" and fe[1] != "No" and fe[3] != "No"


def test_event_time_rows_are_ordered_and_labelled(fits):
    text = econ.etable(fits, rename={"treated": "ATT"})
    labels = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| e = ")]
    times = [int(x.split("=")[1]) for x in labels]
    assert times == sorted(times) and -4 in times and 3 in times
    assert "rel_" not in text
    ev = did.event_study(datasets.load("mpdta"), *MP)  # rel_m1 is the reference; rel_m4 ... rel_p3 in order
    rows = [line.split("|")[1].strip() for line in econ.etable(ev).splitlines() if line.startswith("| e = ")]
    assert [int(r.split("=")[1]) for r in rows] == sorted(int(r.split("=")[1]) for r in rows)


def test_keep_order_rename_follow_fixest(fits):
    text = econ.etable(fits, rename={"treated": "ATT"}, keep=["^ATT$", r"^e = [0-9]"])
    assert "e = -2" not in text and "e = 0" in text and "| ATT |" in text
    text = econ.etable(fits, rename={"treated": "ATT"}, keep="%treated")  # % matches the original name
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ") and "e = " in line]
    assert rows == [] and "| ATT |" in text
    text = econ.etable(fits, rename={"treated": "ATT"}, order=["^e = ", "!^ATT$"])
    terms = [line.split("|")[1].strip() for line in text.splitlines()
             if line.startswith("| e = ") or line.startswith("| ATT |")]
    assert terms[-1] == "ATT" and terms[0].startswith("e = ")
    text = econ.etable(fits, rename={"treated": "ATT"}, drop="!^ATT$")  # ! negates: drop all but ATT
    assert "e = " not in text and "| ATT |" in text
    with pytest.raises(SpecificationError, match="order pattern"):
        econ.etable(fits, order="e = (")


def test_compare_results_are_accepted(fits):
    cmp = did.compare(datasets.load("mpdta"), *MP, estimators=("twfe", "cs", "sa"), window=(-3, 3))
    text = econ.etable(cmp)
    assert _row(text, "Estimator") == ["TWFE", "Callaway-Sant'Anna", "Sun-Abraham"]
    att = _row(text, "ATT")
    overall = cmp.overall().set_index("estimator")["estimate"]
    np.testing.assert_allclose([float(re.sub(r"\*+$", "", c)) for c in att], overall.loc[["twfe", "cs", "sa"]],
                               atol=5e-4)
    assert _row(text, "Observations") == ["2,500"] * 3


def test_three_formats(fits, tmp_path):
    md = econ.etable(fits, rename={"treated": "ATT"})
    tex = econ.etable(fits, rename={"treated": "ATT"}, format="latex", file=tmp_path / "t.tex")
    page = econ.etable(fits, rename={"treated": "ATT"}, format="html")
    assert md.count("| ATT |") == 1 and "| Units |" in md
    assert tex.startswith(r"\begin{tabular}{lcccc}") and r"\toprule" in tex and r"\midrule" in tex
    assert r"\bottomrule" in tex and tex.count("\nATT & ") == 1 and "e = -2 &" in tex and "Control group &" in tex
    assert (tmp_path / "t.tex").read_text() == tex
    assert "countyreal FE & Yes & --- & Yes & --- \\\\" in tex and tex.isascii()
    assert page.count("<td>ATT</td>") == 1 and "<td>e = -2</td>" in page and "<td>Units</td>" in page
