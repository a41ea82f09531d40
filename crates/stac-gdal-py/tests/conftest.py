"""Shared fixtures of the stac_gdal pytest suite: small real COGs and their
STAC items, made with the cube benchmark's generator
(xtask/peers/cube/generate.py: the same smooth field + hash noise, DEFLATE
COGs with overviews, nodata 0) in a session temp folder.

Cases (each a list of item dicts):
- `stack`: 4 scenes of one UTM 32N tile, B02 (10 m) and B05 (20 m, so
  mixed resolutions), a nodata corner on some scenes;
- `mosaic`: 2 days x 2 overlapping tiles, scenes seconds apart, nodata
  wedges on the overlap (solar-day groupby, first valid pixel);
- `multiband`: 2 scenes whose asset `visual` holds 3 bands;
- `zones`: 2 scenes in UTM 32N and 2 in UTM 33N near the zone boundary.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from rasterio.transform import Affine

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "cube_generate", ROOT / "xtask" / "peers" / "cube" / "generate.py"
)
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

N = 128  # 10 m pixels per side
T0 = datetime(2023, 6, 1, 10, 30, tzinfo=timezone.utc)
EXT = [
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
]


def _item(item_id, dt, epsg, x0, y0, assets):
    x1, y1 = x0 + N * 10.0, y0 - N * 10.0
    to_ll = Transformer.from_crs(epsg, 4326, always_xy=True)
    ring = [to_ll.transform(x, y) for x, y in [(x0, y1), (x1, y1), (x1, y0), (x0, y0), (x0, y1)]]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": EXT,
        "id": item_id,
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
        "properties": {"datetime": dt.strftime("%Y-%m-%dT%H:%M:%SZ"), "proj:epsg": epsg},
        "assets": assets,
        "links": [],
    }


def _asset(path, res, x0, y0, n, nbands=1):
    return {
        "href": str(path),
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "roles": ["data"],
        "proj:shape": [n, n],
        "proj:transform": [float(res), 0.0, x0, 0.0, -float(res), y0],
        "raster:bands": [{"data_type": "uint16", "nodata": 0}] * nbands,
    }


def scene(out, item_id, dt, *, epsg=32632, x0=399960.0, y0=5300040.0, seed=0,
          wedge=None, bands=(("B02", 10), ("B05", 20)), multiband=False):
    """Write one scene's COGs (world-aligned values, so overlapping tiles
    agree where both are valid) and return its item."""
    assets = {}
    for bi, (key, res) in enumerate(bands):
        scale = res // 10
        n = N // scale
        col0 = abs(int(round((x0 - 399960.0) / res)))
        data = gen.field(col0, 0, n, res, seed, bi, seed)
        r = (np.arange(n) + 0.5) * scale
        c = (np.arange(n) + 0.5) * scale
        if wedge == "corner":
            data[c[None, :] + r[:, None] < 40] = 0
        elif wedge == "east":
            data[c[None, :] > 100 - 0.1 * r[:, None]] = 0
        elif wedge == "west":
            data[c[None, :] < 20 + 0.1 * r[:, None]] = 0
        path = Path(out) / f"{item_id}_{key}.tif"
        gen.write_cog(str(path), data, Affine(float(res), 0, x0, 0, -float(res), y0), epsg=epsg)
        assets[key] = _asset(path, res, x0, y0, n)
    if multiband:
        data = np.stack([gen.field(0, 0, N, 10, seed, 5 + b, seed) for b in range(3)])
        path = Path(out) / f"{item_id}_visual.tif"
        gen.write_cog(str(path), data, Affine(10.0, 0, x0, 0, -10.0, y0), epsg=epsg)
        assets["visual"] = _asset(path, 10, x0, y0, N, nbands=3)
    return _item(item_id, dt, epsg, x0, y0, assets)


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("cogs")
    cases = {}
    cases["stack"] = [
        scene(out, f"S{i}", T0 + timedelta(days=5 * i), seed=i, wedge="corner" if i % 2 == 0 else None)
        for i in range(4)
    ]
    mosaic = []
    for d in range(2):
        day = T0 + timedelta(days=3 * d, minutes=1)
        mosaic.append(scene(out, f"M{d}-W", day, seed=10 + 2 * d, wedge="east"))
        mosaic.append(scene(out, f"M{d}-E", day + timedelta(seconds=5), x0=399960.0 + 960.0,
                            seed=11 + 2 * d, wedge="west"))
    cases["mosaic"] = mosaic
    cases["multiband"] = [
        scene(out, f"V{i}", T0 + timedelta(days=i), seed=20 + i, bands=(), multiband=True)
        for i in range(2)
    ]
    # UTM 32N near its eastern edge (9°E + 3°) and UTM 33N near its western edge.
    e32, n32 = Transformer.from_crs(4326, 32632, always_xy=True).transform(11.99, 47.5)
    e33, n33 = Transformer.from_crs(4326, 32633, always_xy=True).transform(12.005, 47.5)
    snap = lambda v: float(np.floor(v / 20.0) * 20.0)
    cases["zones"] = [
        scene(out, "Z32-a", T0, epsg=32632, x0=snap(e32), y0=snap(n32), seed=30, bands=(("B02", 10),)),
        scene(out, "Z33-a", T0 + timedelta(days=1), epsg=32633, x0=snap(e33), y0=snap(n33), seed=31,
              bands=(("B02", 10),)),
        scene(out, "Z32-b", T0 + timedelta(days=2), epsg=32632, x0=snap(e32), y0=snap(n32), seed=32,
              bands=(("B02", 10),)),
        scene(out, "Z33-b", T0 + timedelta(days=3), epsg=32633, x0=snap(e33), y0=snap(n33), seed=33,
              bands=(("B02", 10),)),
    ]
    cases["dir"] = out
    return cases
