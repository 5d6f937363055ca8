"""econ.plot: choropleth colours follow the values feature by feature; LISA cluster maps; errors; D6 uses it."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from econ import datasets  # noqa: E402
from econ.errors import EconError  # noqa: E402
from econ.plot import choropleth, lisa_map  # noqa: E402
from econ.spatial import local_moran  # noqa: E402


def _feature_colours(ax, level):
    """Face colour (hex) of the first ring of every outline feature, by its code property (None outside)."""
    name, key = ("china_prefecture_outlines", "prefecture_code") if level == "prefecture" else (
        "china_province_outlines", "province_code")
    colours = [to_hex(c) for c in ax.collections[0].get_facecolors()]
    out, pos = {}, 0
    for f in datasets.load_geojson(name)["features"]:
        g = f["geometry"]
        n = 1 if g["type"] == "Polygon" else len(g["coordinates"])
        out.setdefault(f["properties"][key], colours[pos])
        pos += n
    assert pos == len(colours)
    return out


def test_numeric_choropleth_maps_values_to_the_colour_map(tmp_path):
    prov = datasets.load("china_provinces").set_index("province_code")
    values = prov["area_km2"].drop(prov.index[0])
    fig, ax = choropleth(values, level="province", cmap="viridis", path=tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 5000
    got = _feature_colours(ax, "province")
    norm = matplotlib.colors.Normalize(values.min(), values.max())
    cm = matplotlib.colormaps["viridis"]
    for code in values.index[:10]:
        assert got[code] == to_hex(cm(norm(values[code])))
    assert got[prov.index[0]] == "#f0f0f0" and got[None] == "#d9d9d9"  # missing value / outside the 31
    plt.close(fig)


def test_categorical_choropleth_and_legend():
    pref = datasets.load("china_prefectures").set_index("prefecture_code")
    colors = {"East": "#ff0000", "Central": "#00ff00", "West": "#0000ff"}
    fig, ax = choropleth(pref["region"], colors=colors, labels={"East": "east coast"})
    got = _feature_colours(ax, "prefecture")
    for code in pref.index[::40]:
        assert got[code] == colors[pref.loc[code, "region"]]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["east coast", "Central", "West"]
    plt.close(fig)


def test_lisa_map_colours_clusters():
    pref = datasets.load("china_prefectures").set_index("prefecture_code")
    W = datasets.load_weights()
    res = local_moran(pref["centroid_lat"], W, n_draws=199, seed=1)
    fig, ax = lisa_map(res)
    got = _feature_colours(ax, "prefecture")
    labels = res.clusters()
    from econ.spatial.autocorr import LISA_COLOURS

    for code, lab in labels.items():
        assert got[code] == LISA_COLOURS[lab]
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert f"high-high ({(labels == 'HH').sum()})" in legend and "no neighbours (4)" in legend
    plt.close(fig)


def test_bad_input_is_named():
    pref = datasets.load("china_prefectures").set_index("prefecture_code")
    with pytest.raises(EconError, match="level must be one of"):
        choropleth(pref["area_km2"], level="county")
    with pytest.raises(EconError, match="key 'nope' is not a property"):
        choropleth(pref["area_km2"], key="nope")
    with pytest.raises(EconError, match="no value's index matches"):
        choropleth(pd.Series([1.0, 2.0], index=[110000, 120000]))
    with pytest.raises(EconError, match="no colour for categories"):
        choropleth(pref["region"], colors={"East": "red"})
    with pytest.raises(EconError, match="Series or dict"):
        choropleth(np.ones(3))
    with pytest.raises(EconError, match="local_moran"):
        lisa_map(pref["area_km2"])


def test_d6_map_uses_the_shared_function():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "replication" / "D6_broadband_rollout.py"
    spec = importlib.util.spec_from_file_location("d6", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fig = mod._map(datasets.load("china_prefectures"), datasets.load("broadband_china_entities"))
    got = _feature_colours(fig.axes[0], "prefecture")
    pref = datasets.load("china_prefectures").set_index("prefecture_code")
    for code in pref.index[pref["bbc_cohort"].notna()][:20]:
        assert got[code] == mod.COLOURS[int(pref.loc[code, "bbc_cohort"])]
    assert "choropleth" in path.read_text() and "PolyCollection" not in path.read_text()
    plt.close(fig)
