"""stac_gdal.load against odc.stac.load on the same COGs and items:
values, coordinates, CRS (the `spatial_ref` coordinate and `.odc.crs`),
dtype and nodata attributes, eagerly (`chunks=None`) and with Dask
(`chunks={...}`)."""

from __future__ import annotations

import json

import numpy as np
import odc.geo.xr  # noqa: F401  (the .odc accessor)
import odc.stac
import pyproj
import pystac
import pytest
import xarray as xr

import stac_gdal


def odc_load(items, **kw):
    """odc-stac's load, computed (with the same chunks as ours when chunked:
    a warp is done per chunk by both, so the same windows are compared)."""
    return odc.stac.load([pystac.Item.from_dict(d) for d in items], **kw).compute()


def assert_same(ours: xr.Dataset, ref: xr.Dataset):
    # What we add to odc-stac's Dataset (the layout the Zarr/NetCDF writers
    # share): which items made each timestep.
    ids = json.loads(ours.attrs.pop("stac_items"))
    assert [s.split(",") for s in ours.stac_items.values] == ids
    ours = ours.drop_vars(["stac_items", "group_key"], errors="ignore")
    assert set(ours.data_vars) == set(ref.data_vars)
    for name in ref.data_vars:
        assert ours[name].dims == ref[name].dims, name
        assert ref[name].dims in (("time", "y", "x"), ("time", "latitude", "longitude"))
        assert ours[name].dtype == ref[name].dtype, name
        assert ours[name].attrs.get("nodata") == ref[name].attrs.get("nodata"), name
        np.testing.assert_array_equal(ours[name].values, ref[name].values, err_msg=name)
    for c in ref[next(iter(ref.data_vars))].dims:
        np.testing.assert_array_equal(ours[c].values, ref[c].values, err_msg=c)
        assert ours[c].attrs == ref[c].attrs, c
    assert int(ours.spatial_ref) == int(ref.spatial_ref)
    # The WKT is GDAL's (the layout's) here and pyproj's there: two PROJ
    # builds may word it differently; it must be the same CRS, and every
    # other attribute (CF parameters, GeoTransform) equal.
    a, b = dict(ours.spatial_ref.attrs), dict(ref.spatial_ref.attrs)
    wkt_a, wkt_b = a.pop("crs_wkt"), b.pop("crs_wkt")
    assert a.pop("spatial_ref") == wkt_a and b.pop("spatial_ref") == wkt_b
    assert a == b
    assert pyproj.CRS.from_wkt(wkt_a) == pyproj.CRS.from_wkt(wkt_b)
    assert ours.odc.crs == ref.odc.crs
    assert ours.odc.geobox == ref.odc.geobox
    # Everything at once: data, coordinates and every attribute.
    ours["spatial_ref"].attrs.update(crs_wkt=wkt_b, spatial_ref=wkt_b)
    xr.testing.assert_identical(ours, ref)


CHUNKS = [None, {"time": 1, "y": 48, "x": 40}]


@pytest.mark.parametrize("chunks", CHUNKS, ids=["eager", "dask"])
def test_time_stack_with_mixed_resolutions(data, chunks):
    items = data["stack"]
    ref = odc_load(items, bands=["B02", "B05"], groupby="time", resolution=10, chunks=chunks)
    ours = stac_gdal.load(items, bands=["B02", "B05"], resolution=10, chunks=chunks)
    if chunks:
        assert ours.B02.chunks == ((1,) * 4, (48, 48, 32), (40, 40, 40, 8))
    assert_same(ours.compute(), ref)
    assert ours.sizes["time"] == 4
    # B05 (20 m) lands on the 10 m grid, every 20 m pixel on 2 x 2 cells.
    b5 = ours.B05.values[1]
    np.testing.assert_array_equal(b5[0::2, 0::2], b5[1::2, 1::2])


@pytest.mark.parametrize("chunks", CHUNKS, ids=["eager", "dask"])
def test_solar_day_mosaic_first_valid(data, chunks):
    items = data["mosaic"]
    ref = odc_load(items, bands=["B02", "B05"], groupby="solar_day", resolution=10, chunks=chunks)
    ours = stac_gdal.load(items, bands=["B02", "B05"], groupby="solar_day", resolution=10,
                          chunks=chunks)
    assert_same(ours.compute(), ref)
    assert ours.sizes["time"] == 2
    # Both tiles show in the mosaic: the west tile's nodata wedge is filled
    # by the east tile where they overlap.
    west_only = stac_gdal.load(items[:1], bands=["B02"], resolution=10, like=ours)
    v, w = ours.B02.values[0], west_only.B02.values[0]
    assert (v != 0).sum() > (w != 0).sum()
    np.testing.assert_array_equal(v[w != 0], w[w != 0])


@pytest.mark.parametrize("chunks", CHUNKS, ids=["eager", "dask"])
def test_multiband_asset(data, chunks):
    items = data["multiband"]
    ref = odc_load(items, groupby="time", chunks=chunks)
    ours = stac_gdal.load(items, chunks=chunks)
    assert_same(ours.compute(), ref)
    assert len(ours.data_vars) == 3


@pytest.mark.parametrize("chunks", CHUNKS, ids=["eager", "dask"])
def test_mixed_utm_zones(data, chunks):
    items = data["zones"]
    ref = odc_load(items, bands=["B02"], groupby="time", crs="EPSG:32632", resolution=10,
                   chunks=chunks)
    ours = stac_gdal.load(items, bands=["B02"], crs="EPSG:32632", resolution=10, chunks=chunks)
    assert_same(ours.compute(), ref)


@pytest.mark.parametrize("chunks", CHUNKS, ids=["eager", "dask"])
def test_geographic_grid(data, chunks):
    # EPSG:4326 output: dims latitude/longitude, every source warped.
    items = data["stack"][:2]
    ref = odc_load(items, bands=["B02"], groupby="time", crs="EPSG:4326", resolution=0.0001,
                   chunks=chunks)
    ours = stac_gdal.load(items, bands=["B02"], crs="EPSG:4326", resolution=0.0001, chunks=chunks)
    assert ours.B02.dims == ("time", "latitude", "longitude")
    assert_same(ours.compute(), ref)


def test_sources_off_the_resolution_lattice_keep_their_pixels(data, tmp_path):
    # Sources 5 m off the 10 m lattice: both tools keep the sources' own
    # pixel alignment (no resampling); anchor="edge" snaps to multiples of
    # the resolution instead (one more row and column, half-pixel shift).
    from conftest import T0, scene

    items = [scene(tmp_path, "off", T0, x0=399965.0, y0=5300045.0, seed=3, bands=(("B02", 10),))]
    ref = odc_load(items, bands=["B02"], groupby="time", resolution=10, chunks=None)
    native = stac_gdal.load(items, bands="B02", resolution=10)
    assert float(native.x[0]) == 399970.0 and native.sizes["x"] == 128
    np.testing.assert_array_equal(native.B02.values[0], rasterio_read(items[0]["assets"]["B02"]["href"]))
    assert_same(native, ref)
    edge = stac_gdal.load(items, bands="B02", resolution=10, anchor="edge")
    assert float(edge.x[0]) % 10 == 5.0 and edge.sizes["x"] == 129


def rasterio_read(path):
    import rasterio

    with rasterio.open(path) as src:
        return src.read(1)


@pytest.mark.parametrize("chunks", CHUNKS, ids=["eager", "dask"])
def test_callable_groupby_as_odc_stac_takes_it(data, chunks):
    items = data["mosaic"]
    pitems = [pystac.Item.from_dict(d) for d in items]
    calls = []

    def day(item, parsed, idx):  # odc-stac's signature
        calls.append((type(item), parsed, idx))
        return item.datetime.date()

    ours = stac_gdal.load(pitems, bands=["B02"], groupby=day, resolution=10, chunks=chunks)
    # Called once per item, when planning, with the pystac Items given.
    assert calls == [(pystac.Item, None, i) for i in range(len(items))]
    ours = ours.compute()
    ref = odc.stac.load(pitems, bands=["B02"], groupby=day, resolution=10, chunks=chunks).compute()
    assert ours.sizes["time"] == ref.sizes["time"] == 2
    np.testing.assert_array_equal(ours.B02.values, ref.B02.values)
    # The same cube as the named grouping it spells out, and a one-argument
    # function of the dicts gives it too.
    by_name = stac_gdal.load(items, bands=["B02"], groupby="solar_day", resolution=10)
    np.testing.assert_array_equal(ours.B02.values, by_name.B02.values)
    one_arg = stac_gdal.load(items, bands=["B02"], resolution=10,
                             groupby=lambda d: d["properties"]["datetime"][:10])
    np.testing.assert_array_equal(one_arg.B02.values, by_name.B02.values)
    # A key that is not a key is refused naming the item.
    with pytest.raises(TypeError, match="M0-W"):
        stac_gdal.load(items, bands=["B02"], groupby=lambda d: None)
