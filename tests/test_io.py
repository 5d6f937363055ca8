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
    with pytest.raises(PanelError, match=r"unknown column\(s\): 'county' \(did you mean 'city'\?\) not in the data"):
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
    (tmp_path / "p.xlsx").write_bytes(b"PK")
    with pytest.raises(PanelError, match=r"\.xlsx spreadsheets are not a supported format; supported are CSV"):
        read_panel(tmp_path / "p.xlsx", unit="city", time="year")
    with pytest.raises(PanelError, match="no such file"):
        read_panel(tmp_path / "p.csv", unit="city", time="year")
    with pytest.raises(PanelError, match="not in the data"):
        read_panel(small_panel(), unit="city", time="year", columns=["income"])


# ------------------------------------------------------------------------------------------ issue 11
def test_zero_padded_ids_stay_strings(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("county,year,code,y\n0101,2015,007,1.0\n0101,2014,007,2.0\n0102,2014,010,3.0\n1103,2014,1,4\n")
    out = read_panel(path, "county", "year")
    assert out.county.tolist() == ["0101", "0101", "0102", "1103"] and out.code.tolist()[0] == "007"
    assert out.year.dtype == np.int64 and out.y.dtype == float
    plain = tmp_path / "q.csv"
    plain.write_text("county,year,y\n101,2015,1.0\n102,2015,2.0\n")
    assert read_panel(plain, "county", "year").county.dtype == np.int64  # no leading zeros: numbers


def test_gbk_csv_detected_and_encoding_argument(tmp_path):
    text = "城市,年份,收入\n杭州,2015,1.0\n杭州,2016,2.0\n宁波,2015,3.0\n"
    path = tmp_path / "gbk.csv"
    path.write_bytes(text.encode("gbk"))
    out = read_panel(path, "城市", "年份")
    assert out["城市"].tolist() == ["宁波", "杭州", "杭州"] and out.attrs["encoding"] == "gb18030"
    assert read_panel(path, "城市", "年份", encoding="gbk")["收入"].sum() == 6.0
    utf = tmp_path / "utf.csv"
    utf.write_bytes(text.encode("utf-8-sig"))
    assert read_panel(utf, "城市", "年份").attrs["encoding"] == "utf-8"
    with pytest.raises(PanelError, match="could not decode.*encoding"):
        read_panel(path, "城市", "年份", encoding="utf-8")
    with pytest.raises(PanelError, match="unknown encoding"):
        read_panel(path, "城市", "年份", encoding="no-such-codec")


def test_bad_sources_and_arguments_named(tmp_path):
    with pytest.raises(PanelError, match="got dict.*pd.DataFrame"):
        read_panel({"city": [1], "year": [2015]}, "city", "year")
    with pytest.raises(PanelError, match="is a directory"):
        read_panel(tmp_path, "city", "year")
    with pytest.raises(PanelError, match="no such file"):
        read_panel(tmp_path / "none.csv", "city", "year")
    with pytest.raises(PanelError, match="unit must be a column name"):
        validate_panel(small_panel(), ["city"], "year")
    with pytest.raises(PanelError, match="time must be a column name"):
        read_panel(small_panel(), "city", None)
    with pytest.raises(PanelError, match="columns must be a list"):
        read_panel(small_panel(), "city", "year", columns="y")
    with pytest.raises(PanelError, match="encoding must be a string"):
        (tmp_path / "p.csv").write_text("city,year\n1,2015\n")
        read_panel(tmp_path / "p.csv", "city", "year", encoding=8)


def test_time_out_of_range_refused_not_wrapped():
    raw = small_panel().astype({"year": float})
    raw.loc[0, "year"] = 1e20
    with pytest.raises(PanelError, match=r"outside \+-2\^53.*rows \[0\]"):
        validate_panel(raw, "city", "year")
    big = small_panel().astype({"year": np.uint64})
    big.loc[1, "year"] = np.uint64(2**63 + 5)
    with pytest.raises(PanelError, match=r"outside \+-2\^53.*rows \[1\]"):
        validate_panel(big, "city", "year")


def test_object_years_and_mixed_ids():
    obj = small_panel().astype({"year": object})
    assert validate_panel(obj, "city", "year").year.dtype == np.int64  # numbers in an object column: fine
    text = small_panel().astype({"year": str})
    with pytest.raises(PanelError, match=r"e.g. '2016' at row 0.*pd.to_numeric"):
        validate_panel(text, "city", "year")
    listy = small_panel().astype({"city": object})
    listy.at[0, "city"] = [1, 2]
    with pytest.raises(PanelError, match="unhashable"):
        validate_panel(listy, "city", "year")
