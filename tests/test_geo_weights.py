"""Your own geography (issue 22, part 3): Weights from GeoDataFrames / GeoJSON / shapefiles, libpysal round trips,
maps of any outlines, ids that keep their dtype, and the errors."""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

gpd = pytest.importorskip("geopandas", reason="geopandas (optional extra econ[geo]) is not installed")
libpysal_w = pytest.importorskip("libpysal.weights", reason="libpysal (test extra) is not installed")
from shapely.geometry import box  # noqa: E402

from econ import datasets  # noqa: E402
from econ.errors import SpecificationError, WeightsError  # noqa: E402
from econ.plot import choropleth, lisa_map  # noqa: E402
from econ.spatial import Weights, local_moran  # noqa: E402


def _grid(nx=6, ny=4, lon0=5.0, lat0=45.0, step=0.5, crs="EPSG:4326"):
    """An nx x ny grid of cells over Europe (not China), ids 101.. as int64, with a jittered shared corner so
    cells are not all equal-sized."""
    geoms, ids = [], []
    for j in range(ny):
        for i in range(nx):
            geoms.append(box(lon0 + i * step, lat0 + j * step, lon0 + (i + 1) * step, lat0 + (j + 1) * step))
            ids.append(101 + j * nx + i)
    return gpd.GeoDataFrame({"region": np.array(ids, dtype="int64"), "v": np.arange(len(ids), dtype=float)},
                            geometry=geoms, crs=crs)


def _same(a: Weights, b: Weights):
    assert set(a.ids) == set(b.ids)
    b = b.align(list(a.ids))
    assert (a.matrix != b.matrix).nnz == 0


def _provinces():
    gj = datasets.load_geojson("china_province_outlines")
    feats = [f for f in gj["features"] if (f.get("properties") or {}).get("province_code")]
    gdf = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")
    return gdf.dissolve(by="province_code", as_index=False)


@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_geodataframe_contiguity_equals_libpysal(kind):
    lib = {"queen": libpysal_w.Queen, "rook": libpysal_w.Rook}[kind]
    for gdf, col in ((_grid(), "region"), (_provinces(), "province_code")):
        ours = Weights.from_geodataframe(gdf, col, kind=kind, islands="keep")
        ref = lib.from_dataframe(gdf, ids=gdf[col].tolist(), silence_warnings=True)
        _same(ours, Weights.from_libpysal(ref))
    g = _grid()
    assert Weights.from_geodataframe(g, "region", kind="queen").matrix.nnz > \
        Weights.from_geodataframe(g, "region", kind="rook").matrix.nnz  # diagonal neighbours: the test can fail


def test_ids_keep_their_dtype_and_round_trip(tmp_path):
    g = _grid()
    w = Weights.from_geodataframe(g, "region", kind="rook")
    assert all(type(u) is int for u in w.ids) and w.ids == tuple(g["region"].tolist())
    panel_ids = pd.Series(np.repeat(g["region"].to_numpy(), 3))
    w.check_units(pd.unique(panel_ids))  # integer panel ids match
    back = Weights.from_libpysal(w.to_libpysal())
    assert back.ids == w.ids and (back.matrix != w.matrix).nnz == 0 and back.transform == w.transform
    r = w.row_standardize()
    assert Weights.from_libpysal(r.to_libpysal()).transform == "r"
    s = Weights.from_geodataframe(g.assign(region=g["region"].astype(str)), "region", kind="rook")
    assert all(type(u) is str for u in s.ids)
    # a GeoJSON written with float codes (1.0) gives integer ids, which match the panel
    gj = json.loads(g.to_json())
    for f in gj["features"]:
        f["properties"]["region"] = float(f["properties"]["region"])
    wf = Weights.from_contiguity(gj, kind="rook", id_property="region")
    assert all(type(u) is int for u in wf.ids)
    _same(wf, w)
    # shapefile and GeoJSON files
    g.to_file(tmp_path / "grid.shp")
    g.to_file(tmp_path / "grid.geojson", driver="GeoJSON")
    for p in ("grid.shp", "grid.geojson"):
        wp = Weights.from_file(tmp_path / p, "region", kind="queen")
        assert all(type(u) is int for u in wp.ids)
        _same(wp, Weights.from_geodataframe(g, "region", kind="queen"))


def test_distance_weights_need_a_crs_and_use_lon_lat():
    g = _grid()
    pts = g.geometry.representative_point()
    ref = Weights.from_distance(pts.y.to_numpy(), pts.x.to_numpy(), g["region"].tolist(), k=3)
    _same(Weights.from_geodataframe(g, "region", kind="knn", k=3), ref)
    band = Weights.from_geodataframe(g, "region", kind="distance", cutoff_km=45)
    assert band.cardinalities.max() == 2  # cells ~39 km (east-west) x 56 km: only east/west neighbours
    _same(Weights.from_geodataframe(g.to_crs("EPSG:3035"), "region", kind="distance", cutoff_km=45), band)
    with pytest.raises(WeightsError, match="no CRS"):
        Weights.from_geodataframe(g.set_crs(None, allow_override=True), "region", kind="knn", k=2)
    Weights.from_geodataframe(g.set_crs(None, allow_override=True), "region", kind="queen")  # contiguity: fine


def test_bad_geodataframes():
    g = _grid()
    dup = g.copy()
    dup.loc[3, "region"] = 101
    with pytest.raises(WeightsError, match=r"duplicate geometry ids in 'region': \[101\]"):
        Weights.from_geodataframe(dup, "region")
    with pytest.raises(WeightsError, match="missing"):
        Weights.from_geodataframe(g.assign(region=g["region"].where(g.index != 2)), "region")
    with pytest.raises(WeightsError, match="not in the GeoDataFrame"):
        Weights.from_geodataframe(g, "code")
    with pytest.raises(WeightsError, match="GeoDataFrame"):
        Weights.from_geodataframe(pd.DataFrame(g.drop(columns="geometry")), "region")
    with pytest.raises(WeightsError, match="no such file"):
        Weights.from_file("/nonexistent/x.shp", "region")


def test_choropleth_and_lisa_map_of_non_china_outlines(tmp_path):
    g = _grid()
    g.to_file(tmp_path / "grid.geojson", driver="GeoJSON")
    values = pd.Series(np.linspace(0, 1, len(g)), index=g["region"].to_numpy())
    fig, ax = choropleth(values, tmp_path / "grid.geojson", key="region", path=tmp_path / "map.png")
    img = matplotlib.image.imread(tmp_path / "map.png")[..., :3]
    colours = np.unique(img.reshape(-1, 3).round(2), axis=0)
    assert img.std() > 0.05 and len(colours) > 10  # not blank: the cells carry a colour ramp
    matplotlib.pyplot.close(fig)
    for outlines in (g, json.loads(g.to_json()), g.to_crs("EPSG:3035")):
        fig, ax = choropleth(values, outlines, key="region", legend=False)
        faces = ax.collections[0].get_facecolors()
        assert len(faces) == len(g) and len(np.unique(faces.round(3), axis=0)) == len(g)  # one colour per cell
        lo, hi = ax.get_xlim()
        assert 4.9 < lo < 5.0 and 8.0 < hi < 8.1  # drawn in longitude/latitude
        matplotlib.pyplot.close(fig)
    W = Weights.from_geodataframe(g, "region", kind="queen")
    lisa = local_moran(pd.Series(g["v"].to_numpy(), index=g["region"].to_numpy()), W, n_draws=99)
    fig, ax = lisa_map(lisa, g, key="region")
    assert len(ax.collections) == 1 and ax.get_legend() is not None
    with pytest.raises(SpecificationError, match="key="):
        choropleth(values, json.loads(g.to_json()))
    with pytest.raises(SpecificationError, match="level must be"):
        choropleth(values, "county")
