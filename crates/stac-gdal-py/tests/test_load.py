"""stac_gdal.load's own contract: every input form, the eager path's
buffer (no copy) and GIL release, options that differ from odc-stac's
defaults, typed errors with the Rust messages, and the other functions."""

from __future__ import annotations

import json
import threading

import numpy as np
import odc.geo.xr  # noqa: F401  (the .odc accessor)
import pystac
import pytest
import xarray as xr

import stac_gdal


def test_inputs_in_every_form_give_the_same_cube(data, tmp_path):
    items = data["stack"]
    ref = stac_gdal.load(items, bands=["B02"])
    pys = [pystac.Item.from_dict(d) for d in items]
    as_json = tmp_path / "items.json"
    as_json.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    as_ndjson = tmp_path / "items.ndjson"
    as_ndjson.write_text("\n".join(json.dumps(d) for d in items))
    as_parquet = tmp_path / "items.parquet"
    assert stac_gdal.to_geoparquet(items, as_parquet) == len(items)
    for form in (
        pys,
        pystac.ItemCollection(pys),
        {"type": "FeatureCollection", "features": items},
        str(as_json),
        as_ndjson,
        as_parquet,
        [pys[0], *items[1:]],
    ):
        xr.testing.assert_identical(stac_gdal.load(form, bands="B02"), ref)
    one = stac_gdal.load(pys[0], bands="B02")
    assert one.sizes["time"] == 1
    assert stac_gdal.from_geoparquet(as_parquet)[0]["id"] == items[0]["id"]


def test_eager_arrays_are_views_of_the_one_rust_buffer(data):
    ds = stac_gdal.load(data["stack"], bands=["B02", "B05"])
    a, b = ds.B02.data, ds.B05.data
    assert isinstance(a, np.ndarray)
    # Both bands view one (time, band, y, x) array that NumPy does not own:
    # the buffer the Rust load filled, handed over without a copy.
    assert a.base is not None and a.base is b.base
    assert a.base.shape == (4, 2, 128, 128)
    assert not a.base.flags.owndata
    assert np.shares_memory(a, a.base)


def test_the_gil_is_released_while_loading(data):
    # While a load runs in another thread, this thread keeps running Python.
    items = data["stack"]
    ticks = 0
    t = threading.Thread(
        target=lambda: stac_gdal.load(items, bands=["B02", "B05"], resolution=1.0,
                                      resampling="bilinear", pool=1)
    )
    t.start()
    while t.is_alive():
        ticks += 1
    t.join()
    assert ticks > 10_000, ticks


def test_default_bands_are_every_raster_asset(data):
    items = [dict(it, assets={**it["assets"], "thumb": {"href": "t.png", "type": "image/png",
                                                         "roles": ["thumbnail"]}})
             for it in data["stack"]]
    assert list(stac_gdal.load(items).data_vars) == ["B02", "B05"]


def test_odc_stac_choices_as_options(data):
    items = data["mosaic"]
    # groupby="time" is odc-stac's default; ours is one timestep per item.
    assert stac_gdal.load(items, bands="B02").sizes["time"] == 4
    assert stac_gdal.load(items, bands="B02", groupby="time").sizes["time"] == 4
    assert stac_gdal.load(items, bands="B02", groupby="solar_day").sizes["time"] == 2
    # anchor: see test_equality_odc.py::test_sources_off_the_resolution_lattice_keep_their_pixels


def test_grid_arguments(data):
    items = data["stack"]
    full = stac_gdal.load(items, bands="B02")
    x0, y1 = float(full.x[10]) - 5, float(full.y[20]) + 5
    part = stac_gdal.load(items, bands="B02", x=(x0, x0 + 300), y=(y1 - 200, y1))
    assert part.sizes["x"] == 30 and part.sizes["y"] == 20
    np.testing.assert_array_equal(part.B02.values, full.B02.values[:, 20:40, 10:40])
    same = stac_gdal.load(items, bands="B02", like=part)
    xr.testing.assert_identical(same, part)
    f32 = stac_gdal.load(items, bands="B02", dtype="float32", nodata=-1)
    assert f32.B02.dtype == np.float32 and f32.B02.attrs["nodata"] == -1.0
    np.testing.assert_array_equal(
        f32.B02.values, np.where(full.B02.values == 0, -1.0, full.B02.values.astype("float32"))
    )


def test_errors_are_typed_with_the_rust_message(data):
    items = data["stack"]
    with pytest.raises(stac_gdal.CubeError) as e:
        stac_gdal.load(items, bands=["B99"])
    assert isinstance(e.value, stac_gdal.StacGdalError)
    assert "B99" in str(e.value) and e.value.kind == "Asset"
    with pytest.raises(stac_gdal.CubeError) as e:
        stac_gdal.load(items, bands="B02", fusion="avg")
    assert e.value.kind == "InvalidOption" and "avg" in str(e.value)
    broken = [dict(items[0], assets={"B02": dict(items[0]["assets"]["B02"], href="/nonexistent/x.tif")}),
              *items[1:]]
    with pytest.raises(stac_gdal.CubeError, match="S0.*B02|B02.*S0") as e:
        stac_gdal.load(broken, bands="B02")
    assert e.value.kind == "Read"
    partial = stac_gdal.load(broken, bands="B02", fail_on_error=False)
    assert (partial.B02.values[0] == 0).all()
    fails = json.loads(partial.attrs["failures"])
    assert fails[0]["item"] == "S0" and fails[0]["asset"] == "B02"


def test_progress_callback(data):
    seen = []
    stac_gdal.load(data["stack"], bands=["B02", "B05"], progress=lambda d, t: seen.append((d, t)))
    # Called from the reader threads as sources finish (in any order).
    assert {t for _, t in seen} == {8}
    assert max(d for d, _ in seen) == 8


def test_metadata_functions(data, tmp_path):
    item = data["stack"][0]
    md = stac_gdal.read_extension_metadata(item, "B05")
    assert md["epsg"] == 32632 and md["shape"] == [64, 64]
    assert md["geotransform"] == [399960.0, 20.0, 0.0, 5300040.0, 0.0, -20.0]
    assert stac_gdal.which_engine(item, "B02") == "gdal"
    rel = dict(item, links=[{"rel": "self", "href": "https://example.test/items/a.json"}],
               assets={"B02": dict(item["assets"]["B02"], href="../tiles/B02.tif")})
    assert stac_gdal.resolved_href(rel, "B02") == "https://example.test/tiles/B02.tif"
    signed = stac_gdal.resolved_href(rel, "B02", stac_gdal.Signer.anonymous())
    assert signed == "https://example.test/tiles/B02.tif"
    with pytest.raises(stac_gdal.MetaError):
        stac_gdal.read_extension_metadata({"id": "x"}, "nope")


def test_vrt_and_stac_item(data, tmp_path):
    items = data["stack"]
    vrt = tmp_path / "m.vrt"
    xml = stac_gdal.build_vrt_from_stac(items, "B02", vrt)
    assert vrt.read_text() == xml and "<VRTDataset" in xml
    it = stac_gdal.to_stac_item(items[0]["assets"]["B02"]["href"], "S0-file",
                                datetime="2023-06-01T10:30:00Z")
    assert it["id"] == "S0-file"
    assert it["properties"]["proj:epsg"] == 32632 or it["properties"].get("proj:code") == "EPSG:32632"
    back = stac_gdal.load([it], bands="data")
    np.testing.assert_array_equal(back["data"].values[0],
                                  stac_gdal.load(items[:1], bands="B02").B02.values[0])


def test_signer_pickles_and_hides_its_secret():
    import pickle

    s = stac_gdal.Signer.bearer("s3cr3t-token-value", hosts=["data.example.test"])
    assert "s3cr3t" not in repr(s)
    back = pickle.loads(pickle.dumps(s))
    assert back.name == s.name


def test_nodata_per_band(data):
    items = data["stack"]
    plain = stac_gdal.load(items, bands=["B02", "B05"], resolution=10)
    b02 = plain.B02.values
    v = int(b02[1][b02[1] != 0][0])  # a real value of B02
    assert (b02 == v).sum() > 0
    for chunks in (None, {"time": 1, "y": 48, "x": 40}):
        ours = stac_gdal.load(items, bands=["B02", "B05"], resolution=10,
                              nodata={"B02": v, "*": 0}, chunks=chunks).compute()
        # B02's pixels equal to v are nodata now (filled with the cube's 0);
        # every other pixel, and all of B05, is unchanged.
        expected = np.where(b02 == v, 0, b02)
        np.testing.assert_array_equal(ours.B02.values, expected)
        np.testing.assert_array_equal(ours.B05.values, plain.B05.values)
        assert ours.B02.attrs["nodata"] == 0


def test_signer_options_as_keywords_scope_and_pickle():
    import pickle

    S = stac_gdal.Signer
    local = "http://127.0.0.1:8123/a.tif"
    # A static Earthdata token for a local origin, allowed over plain http:
    # sent there, and nowhere else (another port, the default NASA hosts).
    e = S.earthdata(token="tok-123456789", hosts=["127.0.0.1:8123"],
                    allow_http=["http://127.0.0.1:8123"], timeout=5, refresh_window=10)
    assert e.gdal_env(local) == [("GDAL_HTTP_HEADERS", "Authorization: Bearer tok-123456789")]
    assert e.gdal_env("http://127.0.0.1:8124/a.tif") == []
    assert e.gdal_env("https://data.earthdata.nasa.gov/a.tif") == []
    # Without the allowance the token never goes over plain http.
    assert S.earthdata(token="tok-123456789", hosts=["127.0.0.1:8123"]).gdal_env(local) == []
    b = S.bearer("t0ken-abcdefgh", ["127.0.0.1:8123"], allow_http=["127.0.0.1:8123"])
    assert b.gdal_env(local) == [("GDAL_HTTP_HEADERS", "Authorization: Bearer t0ken-abcdefgh")]
    # Explicit AWS credentials reach GDAL's config only when asked.
    key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    a = S.aws_requester_pays("eu-west-1", access_key_id="AKIDEXAMPLE", secret_access_key=key,
                             session_token="session-token-1234")
    env = dict(a.gdal_env("s3://bucket/k.tif"))
    assert env["AWS_SECRET_ACCESS_KEY"] == key and env["AWS_SESSION_TOKEN"] == "session-token-1234"
    quiet = S.aws_requester_pays("eu-west-1", access_key_id="AKIDEXAMPLE", secret_access_key=key,
                                 credentials_in_gdal_env=False)
    assert "AWS_SECRET_ACCESS_KEY" not in dict(quiet.gdal_env("s3://bucket/k.tif"))
    # Every option survives pickling (what a Dask worker gets), and no
    # secret shows in a repr.
    for s in (e, b, a, quiet, S.planetary_computer(sas_url="http://127.0.0.1:1/token", timeout=3),
              S.cdse(username="u", password="p4ssw0rd-xyz", client_id="cid", timeout=3)):
        back = pickle.loads(pickle.dumps(s))
        assert back.name == s.name
        for href in (local, "s3://bucket/k.tif", "https://x.dataspace.copernicus.eu/a.tif"):
            if s.name not in ("planetary-computer", "cdse"):
                assert back.gdal_env(href) == s.gdal_env(href)
        assert "tok-1" not in repr(s) and key not in repr(s) and "p4ssw0rd" not in repr(s)
    # Bad option values are typed errors naming the option.
    with pytest.raises(ValueError, match="together"):
        S.earthdata(username="u")
    with pytest.raises(ValueError, match="together"):
        S.aws_requester_pays(access_key_id="AKIDEXAMPLE")
    with pytest.raises(ValueError, match="timeout"):
        S.planetary_computer(timeout=-1)
    with pytest.raises(stac_gdal.SignerError, match="ftp://x"):
        S.bearer("t", allow_http=["ftp://x"])
