"""Messages that name the problem and what to do (issue 18, item 10): one bad-input test for each case a new user
met, and ``econ --version``."""

import numpy as np
import pandas as pd
import pytest

import econ
from econ import datasets
from econ.cli import main
from econ.errors import EconError, PanelError, SpecificationError, WeightsError
from econ.spatial import Weights, lm_tests
from econ.spatial.panel import fit_panel
from econ.spatial.s2sls import s2sls


@pytest.fixture(scope="module")
def mpdta():
    return datasets.load("mpdta")


def test_a_spreadsheet_is_named_as_an_unsupported_format(tmp_path):
    path = tmp_path / "panel.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(PanelError) as err:
        econ.read_panel(path, "county", "year")
    msg = str(err.value)
    assert "no such file" not in msg and ".xlsx spreadsheets are not a supported format" in msg
    assert "CSV (.csv, .txt" in msg and "Stata (.dta)" in msg and "parquet" in msg and "read_excel" in msg
    (tmp_path / "panel.sav").write_bytes(b"$FL2")
    with pytest.raises(PanelError, match=r"the suffix '\.sav' is not a supported format; supported are CSV"):
        econ.read_panel(tmp_path / "panel.sav", "county", "year")


def test_every_observation_a_singleton_names_the_fixed_effect():
    df = pd.DataFrame({"u": [1, 2, 3, 4], "t": [1, 1, 2, 2], "y": [1.0, 2.0, 3.0, 5.0], "x": [0.1, 0.3, 0.2, 0.5]})
    with pytest.raises(SpecificationError) as err:
        econ.feols("y ~ x | u", df)
    msg = str(err.value)
    assert "no observations left after dropping singleton" in msg
    assert "fixed effect 'u' has one observation per group (4 groups for 4 observations)" in msg
    assert "fixef_rm='none'" in msg
    with pytest.raises(SpecificationError, match=r"fixed effects \['u', 't'\] each have one observation|'u' has"):
        econ.feols("y ~ x | u + t", df.assign(t=[1, 2, 3, 4]))


def test_event_study_without_a_reference_period(mpdta):
    with pytest.raises(SpecificationError) as err:
        econ.did.event_study(mpdta, "lemp", "countyreal", "year", "first.treat", ref=None)
    msg = str(err.value)
    assert "ref must be an integer relative time" in msg and "got None" in msg
    assert "reference period" in msg and "default -1" in msg


@pytest.mark.parametrize("kind, dtype_text", [("text", "text"), ("category", "categorical labels"),
                                              ("bool", "True/False values")])
def test_a_covariate_that_is_not_numeric_says_so_with_its_dtype(mpdta, kind, dtype_text):
    df = mpdta.copy()
    region = np.where(df["countyreal"] % 2 == 0, "north", "south")
    df["region"] = {"text": region, "category": pd.Categorical(region), "bool": region == "north"}[kind]
    with pytest.raises(SpecificationError) as err:
        econ.did.att_gt(df, "lemp", "countyreal", "year", "first.treat", covariates=["region"])
    msg = str(err.value)
    assert "'region' is not numeric: dtype" in msg and dtype_text in msg
    if kind != "bool":  # the imputation estimator takes a 0/1 bool covariate as numbers
        with pytest.raises(SpecificationError, match=rf"'region' is not numeric: dtype .* \({dtype_text}"):
            econ.did.imputation(df, "lemp", "countyreal", "year", "first.treat", covariates=["region"])


@pytest.mark.parametrize("digits", [-1, 2.5, "3", None, True, 40])
def test_etable_refuses_a_bad_digits(mpdta, digits):
    fit = econ.feols("lemp ~ lpop", mpdta)
    with pytest.raises(SpecificationError, match=r"^digits must be"):
        econ.etable(fit, digits=digits)


def test_etable_into_a_folder_that_does_not_exist(mpdta, tmp_path):
    fit = econ.feols("lemp ~ lpop", mpdta)
    target = tmp_path / "no" / "such" / "table.md"
    with pytest.raises(SpecificationError) as err:
        econ.etable(fit, file=target)
    msg = str(err.value)
    assert "does not exist" in msg and str(target.parent) in msg and "mkdir" in msg
    assert not target.parent.exists()  # not created behind the user's back
    with pytest.raises(SpecificationError, match="is a folder; give a file name in it"):
        econ.etable(fit, file=tmp_path)
    econ.etable(fit, file=tmp_path / "table.md")
    assert (tmp_path / "table.md").read_text(encoding="utf-8").startswith("|")


def _line(n=12):
    A = np.zeros((n, n))
    i = np.arange(n - 1)
    A[i, i + 1] = A[i + 1, i] = 1
    rng = np.random.default_rng(0)
    return A, pd.DataFrame({"u": range(n), "y": rng.normal(size=n), "x": rng.normal(size=n)})


@pytest.mark.parametrize("as_list", [False, True])
def test_a_matrix_or_list_as_W_is_refused_naming_the_constructor(as_list):
    A, df = _line()
    W = A.tolist() if as_list else A
    kind = "list" if as_list else "ndarray"
    panel = pd.concat([df.assign(t=k) for k in range(3)])
    for call in (lambda: lm_tests("y ~ x", df, W, unit="u"), lambda: s2sls("y ~ x", df, W, unit="u"),
                 lambda: fit_panel("y ~ x", panel, W, unit="u", time="t"),
                 lambda: econ.spatial.fit("y ~ x", df, W, unit="u")):
        with pytest.raises(WeightsError) as err:
            call()
        assert f"W must be an econ.spatial.Weights, got {kind}" in str(err.value)
        assert "Weights.from_matrix(matrix, ids=units)" in str(err.value)
    # built properly, a dense matrix or a nested list is accepted and gives the same weights
    assert Weights(tuple(range(12)), W).matrix.nnz == Weights(tuple(range(12)), A).matrix.nnz == 22


def test_an_edge_list_with_duplicated_column_names():
    edges = pd.DataFrame([["a", "b", "c"], ["b", "c", "d"]], columns=["source", "target", "target"])
    with pytest.raises(WeightsError, match=r"several columns named \['target'\]; give each column its own name"):
        Weights.from_edges(edges, "source", "target")
    with pytest.raises(WeightsError, match="source and target must be different columns"):
        Weights.from_edges(edges.iloc[:, :2], "source", "source")
    with pytest.raises(WeightsError, match=r"duplicate ids in weights: \['a'\]"):
        Weights.from_edges(edges.iloc[:, :2], "source", "target", ids=["a", "b", "c", "a"])


def test_datasets_load_given_a_list():
    with pytest.raises(EconError) as err:
        datasets.load(["mpdta", "china_prefectures"])
    msg = str(err.value)
    assert "one dataset name (a str)" in msg and "got list" in msg and "[datasets.load(n) for n in names]" in msg
    with pytest.raises(EconError, match="got NoneType"):
        datasets.load(None)


def test_version(capsys):
    from importlib import metadata

    assert econ.__version__ == metadata.version("econ-placebased")
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"econ {econ.__version__}"
