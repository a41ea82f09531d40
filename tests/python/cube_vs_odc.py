"""A stac-gdal cube file (NetCDF, or a Zarr store) against odc-stac.

Usage:
  python cube_vs_odc.py generate DIR
      Writes small GeoTIFFs and one items file per case under DIR:
      stack.json (3 dates of one tile, B02 + B03 at 10 m), mosaic.json
      (2 days x 2 overlapping tiles, seconds apart: grouped by solar day),
      mixed.json (B02 at 10 m + B05 at 20 m), multiband.json (one 3-band
      uint8 asset). Prints the cases as JSON: name, items file, the assets
      to ask stac-gdal for, the bands to ask odc-stac for, the groupby.
  python cube_vs_odc.py check CASE ITEMS OUTPUT BANDS [GROUPBY]
      Opens OUTPUT with xarray (`open_dataset`, or `open_zarr` for .zarr)
      and compares it with `odc.stac.load(items, bands=BANDS,
      groupby=GROUPBY)`: every data variable pixel for pixel (and its
      type), time, x and y values, the CRS (`ds.odc.crs`), nodata, and the
      per-timestep item ids. Prints one JSON object: {"case", "ok",
      "problems": [...], "checked": {...}}.

Values are a smooth field plus hash noise (the cube benchmark's
generator), with nodata wedges, so fusion order and nodata handling show.
"""

import json
import os
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.transform import Affine

EPSG = 32632
X0, Y0 = 399960.0, 5300040.0
SIZE = 160  # 10 m pixels per side


def field(n, res, seed, band, col0=0):
    xs = (np.arange(n, dtype=np.float64) + col0 + 0.5) * res
    ys = (np.arange(n, dtype=np.float64) + 0.5) * res
    v = (
        2600.0
        + 350.0 * band
        + 11.0 * seed
        + 900.0 * np.sin(xs / 310.0)[None, :] * np.cos(ys / 470.0)[:, None]
    )
    cx = (np.arange(n, dtype=np.uint64) + np.uint64(col0))[None, :]
    cy = np.arange(n, dtype=np.uint64)[:, None]
    h = cx * np.uint64(0x9E3779B97F4A7C15) ^ cy * np.uint64(0xC2B2AE3D27D4EB4F)
    h ^= np.uint64(seed * 1000003 + band * 7919)
    h ^= h >> np.uint64(29)
    return (v + (h % np.uint64(160)).astype(np.float64)).astype(np.uint16)


def write_tif(path, data, res, x0, dtype="uint16"):
    count = data.shape[0] if data.ndim == 3 else 1
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[-1],
        height=data.shape[-2],
        count=count,
        dtype=dtype,
        crs=f"EPSG:{EPSG}",
        transform=Affine(float(res), 0.0, x0, 0.0, -float(res), Y0),
        nodata=0,
        tiled=True,
        blockxsize=64,
        blockysize=64,
    ) as ds:
        ds.write(data if data.ndim == 3 else data[None])


def item(item_id, dt, x0, assets):
    x1, y1 = x0 + SIZE * 10.0, Y0 - SIZE * 10.0
    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    ring = [to_ll.transform(x, y) for x, y in [(x0, y1), (x1, y1), (x1, Y0), (x0, Y0), (x0, y1)]]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
        ],
        "id": item_id,
        "collection": "cube-xarray",
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
        "properties": {"datetime": dt.strftime("%Y-%m-%dT%H:%M:%SZ"), "proj:epsg": EPSG},
        "assets": assets,
        "links": [],
    }


def band_asset(path, res, x0, n, bands=None):
    a = {
        "href": os.path.abspath(path),
        "type": "image/tiff; application=geotiff",
        "roles": ["data"],
        "proj:shape": [n, n],
        "proj:transform": [float(res), 0.0, x0, 0.0, -float(res), Y0],
        "raster:bands": bands or [{"data_type": "uint16", "nodata": 0}],
    }
    return a


def scene(out, item_id, dt, seed, bands, col_shift=0, wedge=None):
    assets = {}
    x0 = X0 + col_shift * 10.0
    for bi, (key, res) in enumerate(bands):
        scale = res // 10
        n = SIZE // scale
        data = field(n, res, seed, bi, col0=col_shift // scale)
        r = (np.arange(n) + 0.5) * scale
        c = (np.arange(n) + 0.5) * scale
        if wedge == "east":
            data[c[None, :] > 130 - 0.1 * r[:, None]] = 0
        elif wedge == "west":
            data[c[None, :] < 30 + 0.1 * r[:, None]] = 0
        path = os.path.join(out, f"{item_id}_{key}.tif")
        write_tif(path, data, res, x0)
        assets[key] = band_asset(path, res, x0, n)
    return item(item_id, dt, x0, assets)


def generate(out):
    os.makedirs(out, exist_ok=True)
    t0 = datetime(2023, 1, 1, 10, 30, tzinfo=timezone.utc)
    cases = []

    def save(name, items, assets, groupby=None, odc_bands=None):
        path = os.path.join(out, f"{name}.json")
        with open(path, "w") as f:
            json.dump({"type": "FeatureCollection", "features": items}, f)
        cases.append({"name": name, "items": path, "assets": assets, "groupby": groupby,
                      "odc_bands": odc_bands or assets})

    ten = [("B02", 10), ("B03", 10)]
    save(
        "stack",
        [scene(out, f"S{i}", t0 + timedelta(days=5 * i), i, ten, wedge="east" if i == 0 else None) for i in range(3)],
        ["B02", "B03"],
    )
    mosaic = []
    for d in range(2):
        day = t0 + timedelta(days=5 * d)
        mosaic.append(scene(out, f"M{d}-W", day, 10 + d, ten, wedge="east"))
        mosaic.append(scene(out, f"M{d}-E", day + timedelta(seconds=5), 20 + d, ten, col_shift=100, wedge="west"))
    save("mosaic", mosaic, ["B02", "B03"], "solar_day")
    mixed = [("B02", 10), ("B05", 20)]
    save("mixed", [scene(out, f"X{i}", t0 + timedelta(days=3 * i), 30 + i, mixed) for i in range(2)], ["B02", "B05"])
    multi = []
    for i in range(2):
        rgb = np.stack([field(SIZE, 10, 40 + i, b) for b in range(3)])
        rgb = (rgb % 250 + 1).astype(np.uint8)
        rgb[:, :8, :8] = 0
        path = os.path.join(out, f"V{i}_visual.tif")
        write_tif(path, rgb, 10, X0, dtype="uint8")
        bands = [{"data_type": "uint8", "nodata": 0}] * 3
        multi.append(item(f"V{i}", t0 + timedelta(days=i), X0, {"visual": band_asset(path, 10, X0, SIZE, bands)}))
    # The whole asset for stac-gdal; odc-stac names its bands visual.1..3.
    save("multiband", multi, ["visual"], odc_bands=["visual.1", "visual.2", "visual.3"])
    print(json.dumps(cases))


def check(case, items_path, output, bands, groupby):
    import odc.geo.xr  # noqa: F401  (the .odc accessor)
    import odc.stac
    import pystac
    import xarray as xr

    with open(items_path) as f:
        items = [pystac.Item.from_dict(x) for x in json.load(f)["features"]]
    kw = {"groupby": groupby} if groupby else {}
    ref = odc.stac.load(items, bands=bands, chunks=None, **kw)
    if output.rstrip("/").endswith(".zarr"):
        ours = xr.open_zarr(output, decode_coords="all").load()
        plain = xr.open_zarr(output)
    else:
        ours = xr.open_dataset(output, decode_coords="all").load()
        plain = xr.open_dataset(output)
    problems = []
    checked = {}
    ref_vars = sorted(ref.data_vars)
    our_vars = sorted(v for v in ours.data_vars)
    plain_vars = sorted(v for v in plain.data_vars if v != "spatial_ref")
    if our_vars != ref_vars or plain_vars != ref_vars:
        problems.append(f"variables: ours {our_vars} (plain open: {plain_vars}), odc-stac {ref_vars}")
    for v in ref_vars:
        if v not in ours:
            continue
        a, b = ours[v], ref[v]
        if a.dims != b.dims:
            problems.append(f"{v}: dims {a.dims} vs {b.dims}")
        if a.dtype != b.dtype:
            problems.append(f"{v}: dtype {a.dtype} vs {b.dtype}")
        if a.shape != b.shape:
            problems.append(f"{v}: shape {a.shape} vs {b.shape}")
        elif not np.array_equal(a.values, b.values, equal_nan=a.dtype.kind == "f"):
            diff = int(np.count_nonzero(a.values != b.values))
            problems.append(f"{v}: {diff} pixels differ")
        if a.attrs.get("nodata") != b.attrs.get("nodata"):
            problems.append(f"{v}: nodata {a.attrs.get('nodata')!r} vs {b.attrs.get('nodata')!r}")
        checked[v] = {"shape": list(a.shape), "dtype": str(a.dtype), "nodata": a.attrs.get("nodata"),
                      "sum": float(a.values.astype("float64").sum())}
    for c in ("time", "y", "x"):
        if c not in ours.coords or not np.array_equal(ours[c].values, ref[c].values):
            problems.append(f"coordinate {c} differs: {ours[c].values[:3] if c in ours.coords else None} vs {ref[c].values[:3]}")
    if ours.odc.crs != ref.odc.crs:
        problems.append(f"crs: {ours.odc.crs} vs {ref.odc.crs}")
    if ours.odc.geobox != ref.odc.geobox:
        problems.append(f"geobox: {ours.odc.geobox} vs {ref.odc.geobox}")
    if "stac_items" in ours.coords:
        got = [str(s) for s in ours["stac_items"].values]
        checked["stac_items"] = got
        if len(got) != ours.sizes["time"]:
            problems.append(f"stac_items: {len(got)} values for {ours.sizes['time']} timesteps")
    else:
        problems.append("no stac_items coordinate")
    checked["time"] = [str(t) for t in ours.time.values]
    checked["crs"] = ours.odc.crs.epsg
    checked["time_encoding"] = {k: plain.time.encoding.get(k) for k in ("units", "calendar")}
    print(json.dumps({"case": case, "ok": not problems, "problems": problems, "checked": checked}, default=str))


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5].split(","), sys.argv[6] if len(sys.argv) > 6 else None)
    else:
        sys.exit(f"unknown command {sys.argv[1]!r}")
