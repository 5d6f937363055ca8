"""read_panel / validate_panel: the boundary every estimator relies on."""

import numpy as np
import pandas as pd
import pytest

from econ.errors import PanelError
from econ.io import read_panel, validate_panel


def small_panel():
    return pd.DataFrame({
        "city": [330100, 330100, 330200, 330200],
        "year": [2016, 2015, 2015, 2016],
        "y": [1.0, 2.0, 3.0, 4.0],
    })


def test_sorted_copy_and_input_untouched():
    raw = small_panel()
    before = raw.copy()
    out = validate_panel(raw, "city", "year")
    pd.testing.assert_frame_equal(raw, before)
    assert list(zip(out.city, out.year)) == [(330100, 2015), (330100, 2016), (330200, 2015), (330200, 2016)]
    assert out.year.dtype == np.int64
    assert out.index.equals(pd.RangeIndex(4))


def test_duplicate_keys_named():
    raw = pd.concat([small_panel(), small_panel().iloc[[1]]], ignore_index=True)
    with pytest.raises(PanelError, match=r"1 duplicate \(city, year\) key\(s\), first: \(330100, 2015\)"):
        validate_panel(raw, "city", "year")


def test_non_numeric_time_rejected_not_coerced():
    raw = small_panel().astype({"year": str})
    with pytest.raises(PanelError, match="time column 'year' must be numeric"):
        validate_panel(raw, "city", "year")


def test_fractional_time_rejected_with_rows():
    raw = small_panel().astype({"year": float})
    raw.loc[2, "year"] = 2015.5
    with pytest.raises(PanelError, match=r"integer-valued; 1 row\(s\) are not, first rows: \[2\]"):
        validate_panel(raw, "city", "year")


def test_float_years_accepted():
    out = validate_panel(small_panel().astype({"year": float}), "city", "year")
    assert out.year.dtype == np.int64


def test_missing_unit_ids_named():
    raw = small_panel().astype({"city": "float"})
    raw.loc[[1, 3], "city"] = np.nan
    with pytest.raises(PanelError, match=r"2 row\(s\) with a missing unit id in column 'city', first rows: \[1, 3\]"):
        validate_panel(raw, "city", "year")


def test_missing_time_named():
    raw = small_panel().astype({"year": float})
    raw.loc[0, "year"] = np.nan
    with pytest.raises(PanelError, match="missing time"):
        validate_panel(raw, "city", "year")


def test_empty_and_missing_columns():
    with pytest.raises(PanelError, match="empty"):
        validate_panel(small_panel().iloc[:0], "city", "year")
    with pytest.raises(PanelError, match=r"column\(s\) \['county'\] not in the data"):
        validate_panel(small_panel(), "county", "year")
    with pytest.raises(PanelError, match="DataFrame"):
        validate_panel(small_panel().to_dict(), "city", "year")


@pytest.mark.parametrize("suffix", [".csv", ".dta", ".parquet"])
def test_read_panel_formats_round_trip(tmp_path, suffix):
    raw = small_panel()
    path = tmp_path / f"panel{suffix}"
    {".csv": lambda: raw.to_csv(path, index=False),
     ".dta": lambda: raw.to_stata(path, write_index=False),
     ".parquet": lambda: raw.to_parquet(path)}[suffix]()
    out = read_panel(path, unit="city", time="year")
    assert len(out) == 4 and out.loc[0, "y"] == 2.0


def test_read_panel_errors(tmp_path):
    with pytest.raises(PanelError, match="unknown suffix '.xlsx'"):
        read_panel(tmp_path / "p.xlsx", unit="city", time="year")
    with pytest.raises(PanelError, match="no such file"):
        read_panel(tmp_path / "p.csv", unit="city", time="year")
    with pytest.raises(PanelError, match="not in the data"):
        read_panel(small_panel(), unit="city", time="year", columns=["income"])
