"""Generate the cube benchmark's local COGs and their STAC items.

Usage: python generate.py OUT_DIR

Writes, under OUT_DIR:
- stack/ and stack.json: case A, a time stack: 24 scenes of one UTM tile
  (EPSG:32632), distinct datetimes.
- mosaic/ and mosaic.json: case B, a solar-day mosaic: 12 days x 2 tiles
  that overlap by 512 columns, two overpasses a few seconds apart per day.

Every scene has 3 assets: B02 and B03 at 10 m (2048 x 2048) and B05 at
20 m (1024 x 1024, same footprint), uint16, nodata 0, DEFLATE COGs
(512-pixel tiles, internal overviews). Pixel values are a smooth field
plus hash noise of the world pixel position (so DEFLATE does real work),
offset per scene (so mosaics show which tile won), with nodata wedges
like real swath edges. Items carry proj:epsg, per-asset proj:shape and
proj:transform, raster:bands (uint16, nodata 0), bbox and geometry.
"""

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone

import numpy as np
import rasterio
import rasterio.shutil
from pyproj import Transformer
from rasterio.io import MemoryFile
from rasterio.transform import Affine

EPSG = 32632
X0, Y0 = 399960.0, 5300040.0  # top-left of the tile, multiples of 20 m
SIZE = 2048  # 10 m pixels per side
BANDS = [("B02", 10), ("B03", 10), ("B05", 20)]
STACK_SCENES = 24
MOSAIC_DAYS = 12
MOSAIC_SHIFT = 1536  # 10 m columns between the two tiles of a day (512 overlap)


def field(col0, row0, n, res, seed, band, offset):
    """uint16 values at the centres of an n x n block whose top-left world
    pixel (on the `res` lattice, from X0/Y0) is (col0, row0)."""
    xs = (np.arange(n, dtype=np.float64) + col0 + 0.5) * res
    ys = (np.arange(n, dtype=np.float64) + row0 + 0.5) * res
    smooth = (
        900.0 * np.sin(xs / 3100.0)[None, :] * np.cos(ys / 4700.0)[:, None]
        + 0.02 * xs[None, :]
        + 0.015 * ys[:, None]
    )
    cx = (np.arange(n, dtype=np.uint64) + np.uint64(col0))[None, :]
    cy = (np.arange(n, dtype=np.uint64) + np.uint64(row0))[:, None]
    h = cx * np.uint64(0x9E3779B97F4A7C15) ^ cy * np.uint64(0xC2B2AE3D27D4EB4F)
    h ^= np.uint64(seed * 1000003 + band * 7919)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    noise = (h % np.uint64(160)).astype(np.float64)
    v = 2600.0 + 350.0 * band + 11.0 * offset + smooth + noise
    return np.clip(v, 1, 65535).astype(np.uint16)


def write_cog(path, data, transform, epsg=EPSG):
    """A DEFLATE COG of `data` (rows x cols, or bands x rows x cols), uint16,
    nodata 0. Also used by the stac_gdal pytest suite (crates/stac-gdal-py)."""
    data = data if data.ndim == 3 else data[None]
    profile = dict(
        driver="GTiff",
        width=data.shape[2],
        height=data.shape[1],
        count=data.shape[0],
        dtype="uint16",
        crs=f"EPSG:{epsg}",
        transform=transform,
        nodata=0,
    )
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(data)
        with mem.open() as ds:
            rasterio.shutil.copy(
                ds,
                path,
                driver="COG",
                COMPRESS="DEFLATE",
                BLOCKSIZE="512",
                OVERVIEW_RESAMPLING="NEAREST",
            )


def scene(job):
    """Write the three COGs of one scene; return its STAC item."""
    out_dir, item_id, dt, col_shift, seed, wedge = job
    assets = {}
    for bi, (key, res) in enumerate(BANDS):
        scale = res // 10
        n = SIZE // scale
        col0 = col_shift // scale
        data = field(col0, 0, n, res, seed, bi, seed)
        # Nodata wedge: on 10 m pixel centres, so bands agree on it.
        r = (np.arange(n) + 0.5) * scale
        c = (np.arange(n) + 0.5) * scale
        if wedge == "east":
            data[c[None, :] > 1700 - 0.1 * r[:, None]] = 0
        elif wedge == "west":
            data[c[None, :] < 200 + 0.1 * r[:, None]] = 0
        elif wedge == "corner":
            data[c[None, :] + r[:, None] < 600] = 0
        x0 = X0 + col_shift * 10.0
        transform = Affine(float(res), 0.0, x0, 0.0, -float(res), Y0)
        path = os.path.join(out_dir, f"{item_id}_{key}.tif")
        write_cog(path, data, transform)
        assets[key] = {
            "href": os.path.abspath(path),
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "proj:shape": [n, n],
            "proj:transform": [float(res), 0.0, x0, 0.0, -float(res), Y0],
            "raster:bands": [{"data_type": "uint16", "nodata": 0}],
        }
    x0 = X0 + col_shift * 10.0
    x1, y1 = x0 + SIZE * 10.0, Y0 - SIZE * 10.0
    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    ring = [to_ll.transform(x, y) for x, y in [(x0, y1), (x1, y1), (x1, Y0), (x0, Y0), (x0, y1)]]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
        ],
        "id": item_id,
        "collection": "cube-bench",
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
        "properties": {
            "datetime": dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "proj:epsg": EPSG,
        },
        "assets": assets,
        "links": [],
    }


def main():
    out = sys.argv[1]
    t0 = datetime(2023, 1, 1, 10, 30, tzinfo=timezone.utc)
    jobs = {"stack": [], "mosaic": []}
    for i in range(STACK_SCENES):
        wedge = "corner" if i % 3 == 0 else None
        jobs["stack"].append((f"S{i:02d}", t0 + timedelta(days=5 * i), 0, i, wedge))
    for d in range(MOSAIC_DAYS):
        day = t0 + timedelta(days=5 * d, minutes=1)
        jobs["mosaic"].append(
            (f"M{d:02d}-W", day, 0, 100 + 2 * d, "east" if d % 2 == 0 else None)
        )
        jobs["mosaic"].append(
            (f"M{d:02d}-E", day + timedelta(seconds=5), MOSAIC_SHIFT, 101 + 2 * d, "west")
        )
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        for case, case_jobs in jobs.items():
            d = os.path.join(out, case)
            os.makedirs(d, exist_ok=True)
            items = list(pool.map(scene, [(d, *j) for j in case_jobs]))
            with open(os.path.join(out, f"{case}.json"), "w") as f:
                json.dump({"type": "FeatureCollection", "features": items}, f, indent=1)


if __name__ == "__main__":
    main()
