"""Zarr stores written by `stac-gdal cube -o X.zarr` against odc-stac.

Usage:
  python zarr_vs_odc.py generate OUT_DIR
      Small COGs and items, made with the cube benchmark's generator
      (xtask/peers/cube/generate.py, scenes shrunk to 256 px):
      stack.json (4 dates of one tile; B02/B03 at 10 m, B05 at 20 m),
      mosaic.json (2 days x 2 overlapping tiles, seconds apart),
      multiband.json (2 dates of a 3-band uint8 asset with eo:bands).
  python zarr_vs_odc.py compare STORE ITEMS BANDS GROUPBY [DTYPE]
      Opens STORE with xarray.open_zarr and loads ITEMS with
      odc.stac.load on the store's own geobox (odc-geo reads it from
      spatial_ref), then asserts: same data variables, every pixel equal
      (raw stored values), time/y/x values equal, the same CRS, the nodata
      attribute, the CF time encoding read back as datetime64[ns], and the
      item ids per timestep. Prints a JSON summary; exits non-zero on any
      difference. STORE may be Zarr v2 or v3 (sharded; xarray through
      zarr-python 3 reads the consolidated root zarr.json).
  python zarr_vs_odc.py same-chunks BLOSC_STORE RAW_STORE
      Decodes every band chunk of a Zarr v2 store written with a blosc
      codec with numcodecs' own Blosc (c-blosc) and asserts the bytes equal
      the same chunk of a store written uncompressed (--codec none): the
      blosc frames are bit-exact. Prints the number of chunks checked.
"""

import json
import os
import sys

import numpy as np


def generate(out):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "xtask", "peers", "cube"))
    import generate as g  # the cube benchmark's generator
    from datetime import datetime, timedelta, timezone

    g.SIZE = 256
    # The generator's nodata wedges are sized for 2048 px scenes; these are
    # drawn on 10 m world pixel centres (so every band agrees), on even
    # seeds: the east part of a stack scene, the east edge of a mosaic's
    # western tile (inside the overlap, so the eastern tile fills it).
    field = g.field

    def wedged(col0, row0, n, res, seed, band, offset):
        v = field(col0, row0, n, res, seed, band, offset)
        if seed % 2 == 0:
            c = (np.arange(n) + col0 + 0.5) * res / 10.0
            r = (np.arange(n) + row0 + 0.5) * res / 10.0
            v[c[None, :] > 200.0 + 0.1 * r[:, None]] = 0
        return v

    g.field = wedged
    shift = 192  # 10 m columns between the two tiles of a day (64 overlap)
    t0 = datetime(2023, 1, 1, 10, 30, tzinfo=timezone.utc)
    cases = {
        "stack": [
            (f"S{i:02d}", t0 + timedelta(days=5 * i, seconds=i), 0, i, None)
            for i in range(4)
        ],
        "mosaic": [
            job
            for d in range(2)
            for job in (
                (f"M{d:02d}-W", t0 + timedelta(days=5 * d, minutes=1), 0, 100 + 2 * d, None),
                (f"M{d:02d}-E", t0 + timedelta(days=5 * d, minutes=1, seconds=5), shift, 101 + 2 * d, None),
            )
        ],
    }
    for case, jobs in cases.items():
        d = os.path.join(out, case)
        os.makedirs(d, exist_ok=True)
        items = [g.scene((d, *j)) for j in jobs]
        with open(os.path.join(out, f"{case}.json"), "w") as f:
            json.dump({"type": "FeatureCollection", "features": items}, f)
    # A 3-band uint8 asset (RGB), eo:bands names, common names, wavelengths.
    import rasterio
    from rasterio.transform import Affine

    from pyproj import Transformer

    d = os.path.join(out, "multiband")
    os.makedirs(d, exist_ok=True)
    to_ll = Transformer.from_crs(32633, 4326, always_xy=True)
    ring = [list(to_ll.transform(x, y)) for x, y in
            [(500000, 4099808), (500256, 4099808), (500256, 4100000), (500000, 4100000), (500000, 4099808)]]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    items = []
    for i in range(2):
        path = os.path.abspath(os.path.join(d, f"rgb{i}.tif"))
        data = np.stack([((np.arange(128 * 96).reshape(96, 128) * (b + 3) + i * 7) % 251 + 1).astype("uint8") for b in range(3)])
        data[:, :5, :5] = 0
        tr = Affine(2.0, 0.0, 500000.0, 0.0, -2.0, 4100000.0)
        with rasterio.open(path, "w", driver="GTiff", width=128, height=96, count=3, dtype="uint8",
                           crs="EPSG:32633", transform=tr, nodata=0, tiled=True, blockxsize=64, blockysize=64) as ds:
            ds.write(data)
        items.append({
            "type": "Feature", "stac_version": "1.0.0", "id": f"rgb-{i}", "collection": "rgb",
            "bbox": [min(lons), min(lats), max(lons), max(lats)],
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"datetime": f"2023-0{i + 1}-01T09:00:00.250000Z", "proj:epsg": 32633},
            "assets": {"visual": {
                "href": path, "type": "image/tiff; application=geotiff", "roles": ["data"],
                "proj:shape": [96, 128], "proj:transform": [2.0, 0.0, 500000.0, 0.0, -2.0, 4100000.0],
                "eo:bands": [
                    {"name": "red", "common_name": "red", "center_wavelength": 0.665},
                    {"name": "green", "common_name": "green", "center_wavelength": 0.56},
                    {"name": "blue", "common_name": "blue", "center_wavelength": 0.49},
                ],
                "raster:bands": [{"data_type": "uint8", "nodata": 0}] * 3,
            }},
            "links": [],
        })
    with open(os.path.join(out, "multiband.json"), "w") as f:
        json.dump({"type": "FeatureCollection", "features": items}, f)


def compare(store, items_path, bands, groupby, dtype=None):
    import odc.geo.xr  # noqa: F401  (the .odc accessor)
    import odc.stac
    import pystac
    import xarray as xr

    with open(items_path) as f:
        items = [pystac.Item.from_dict(i) for i in json.load(f)["features"]]
    ours = xr.open_zarr(store, consolidated=True, mask_and_scale=False)
    their = odc.stac.load(
        items,
        bands=bands,
        geobox=ours.odc.geobox,
        groupby=groupby,
        resampling="nearest",
        chunks=None,
        **({"dtype": dtype} if dtype else {}),
    )
    problems = []
    names = list(their.data_vars)
    # odc-stac names the bands of a multi-band asset "asset.N"; ours use the
    # eo:bands name ("asset.red") when the item gives one.
    rename = dict(zip(names, [b for b in ours.data_vars if b != "spatial_ref"]))
    for theirs_name, ours_name in rename.items():
        a = ours[ours_name].values
        b = their[theirs_name].values
        if a.dtype != b.dtype:
            problems.append(f"{ours_name}: dtype {a.dtype} vs odc-stac {b.dtype}")
        elif a.shape != b.shape:
            problems.append(f"{ours_name}: shape {a.shape} vs odc-stac {b.shape}")
        elif not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            n = int(np.sum(a != b))
            problems.append(f"{ours_name}: {n} pixels differ")
        nd_ours = ours[ours_name].attrs.get("nodata")
        nd_their = their[theirs_name].attrs.get("nodata")
        if nd_ours != nd_their:
            problems.append(f"{ours_name}: nodata {nd_ours!r} vs odc-stac {nd_their!r}")
    for c in ("time", "y", "x"):
        if ours[c].dtype != their[c].dtype:
            problems.append(f"{c}: dtype {ours[c].dtype} vs {their[c].dtype}")
        if not np.array_equal(ours[c].values, their[c].values):
            problems.append(f"{c}: values differ: {ours[c].values[:3]} vs {their[c].values[:3]}")
    if ours.odc.crs != their.odc.crs:
        problems.append(f"crs {ours.odc.crs} vs {their.odc.crs}")
    if ours.odc.geobox != their.odc.geobox:
        problems.append(f"geobox {ours.odc.geobox} vs {their.odc.geobox}")
    # Item ids per timestep, lossless in the global attribute.
    ids = json.loads(ours.attrs["stac_items"])
    if len(ids) != ours.sizes["time"]:
        problems.append(f"stac_items has {len(ids)} entries for {ours.sizes['time']} timesteps")
    if list(ours["stac_items"].values) != [",".join(i) for i in ids]:
        problems.append("stac_items coordinate differs from the attribute")
    summary = {
        "problems": problems,
        "store": store,
        "variables": rename,
        "shape": [int(s) for s in their[names[0]].shape],
        "time_units": ours.time.encoding.get("units"),
        "epsg": ours.odc.crs.epsg,
    }
    print(json.dumps(summary))
    return 1 if problems else 0


def same_chunks(blosc_store, raw_store):
    import numcodecs

    meta = json.load(open(os.path.join(blosc_store, ".zmetadata")))["metadata"]
    bands = [k.split("/")[0] for k, v in meta.items()
             if k.endswith("/.zarray") and len(v["shape"]) == 3]
    problems, n = [], 0
    for b in bands:
        comp = meta[f"{b}/.zarray"]["compressor"]
        if comp["id"] != "blosc":
            problems.append(f"{b}: compressor {comp}")
            continue
        codec = numcodecs.get_codec(comp)
        for name in sorted(os.listdir(os.path.join(blosc_store, b))):
            if name.startswith("."):
                continue
            with open(os.path.join(blosc_store, b, name), "rb") as f:
                frame = f.read()
            with open(os.path.join(raw_store, b, name), "rb") as f:
                raw = f.read()
            # The header c-blosc reads: nbytes, cbytes, blocksize; the
            # compressor library it names.
            sizes = getattr(numcodecs.blosc, "cbuffer_sizes", None) or numcodecs.blosc._cbuffer_sizes
            nbytes, cbytes, _ = sizes(frame)
            if cbytes != len(frame) or nbytes != len(raw):
                problems.append(f"{b}/{name}: header sizes {nbytes}/{cbytes}")
            lib = numcodecs.blosc.cbuffer_complib(frame)
            if lib.lower() != comp["cname"]:
                problems.append(f"{b}/{name}: complib {lib} for cname {comp['cname']}")
            if bytes(codec.decode(frame)) != raw:
                problems.append(f"{b}/{name}: decoded bytes differ")
            n += 1
    print(json.dumps({"chunks": n, "problems": problems}))
    return 1 if problems or n == 0 else 0


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif sys.argv[1] == "compare":
        groupby = None if sys.argv[5] == "none" else sys.argv[5]
        dtype = sys.argv[6] if len(sys.argv) > 6 else None
        sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4].split(","), groupby, dtype))
    elif sys.argv[1] == "same-chunks":
        sys.exit(same_chunks(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
