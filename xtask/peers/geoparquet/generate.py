"""Generate realistic Sentinel-2 L2A STAC items (NDJSON), as a bulk export
of a real catalog would hold them.

Usage: python generate.py TEMPLATES.json OUT.ndjson N [START]

Items START .. START+N-1 of an endless acquisition sequence over a grid of
60 x 40 tiles (lon -10..50, lat 35..67; about 100 km each): each tile is
revisited every 5 days, items come day by day (the order of a time-sorted
export), one of the 10 Earth Search templates per item. For every item:

- a unique id (`S2A_T32TNS_20190103T103021_L2A`), substituted into every
  href, link, product URI and tile id of the template, so hrefs and links
  are unique per item, as in real catalogs;
- the tile's MGRS fields, UTM EPSG code, centroid, footprint (a third of
  acquisitions only cover part of the tile, as at swath edges) and bbox;
- per asset, values that vary as they do in real catalogs: file:size,
  file:checksum (multihash), proj:transform origin, raster:bands statistics;
- datetime/created/updated, cloud cover, view and sun angles, the s2:*
  percentages.

Standard library only; deterministic (item k is always the same).
"""

import hashlib
import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone

COLS, ROWS = 60, 40
TILES = COLS * ROWS
REVISIT = 5
PER_DAY = TILES // REVISIT
BASE = datetime(2019, 1, 1, tzinfo=timezone.utc)
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
BANDS = "CDEFGHJKLMNPQRSTUVWXX"


def tile_of(k):
    day, slot = divmod(k, PER_DAY)
    return day, slot * REVISIT + (-day) % REVISIT


def tile_geo(t):
    i, j = t % COLS, t // COLS
    lon0, lat0 = -10.0 + i * 1.0, 35.0 + j * 0.8
    zone = int((lon0 + 0.5 + 180) // 6) + 1
    band = BANDS[int((lat0 + 80) // 8)]
    square = LETTERS[i % len(LETTERS)] + LETTERS[j % len(LETTERS)]
    return lon0, lat0, zone, band, square


def footprint(rng, lon0, lat0):
    w, s, e, n = lon0, lat0, lon0 + 1.0, lat0 + 0.8
    if rng.random() < 1 / 3:
        # Swath edge: a diagonal cut keeps part of the tile.
        f = rng.uniform(0.2, 0.8)
        ring = [[w + f, n], [w, n - 0.1], [w, s], [e - f / 2, s], [w + f, n]]
    else:
        ring = [[w, n], [w, s], [e, s], [e, n], [w, n]]
    ring = [[round(x, 9), round(y, 9)] for x, y in ring]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return {"type": "Polygon", "coordinates": [ring]}, [min(xs), min(ys), max(xs), max(ys)]


def checksum(rng):
    return "1220" + hashlib.sha256(rng.getrandbits(64).to_bytes(8, "little")).hexdigest()


def stamp(t):
    return t.strftime("%Y%m%dT%H%M%S")


def make(templates, texts, k):
    rng = random.Random(k)
    day, t = tile_of(k)
    lon0, lat0, zone, band, square = tile_geo(t)
    tpl_index = k % len(templates)
    tpl = templates[tpl_index]
    when = BASE + timedelta(days=day, hours=10, seconds=int((lon0 + 10) * 60) + rng.randint(0, 59),
                            microseconds=rng.randint(0, 999) * 1000)
    sat = "A" if (day + t) % 2 == 0 else "B"
    tile = f"{zone:02d}{band}{square}"
    new_id = f"S2{sat}_T{tile}_{stamp(when)}_L2A"
    old = tpl["id"]
    old_tile = old.split("_")[1][1:]
    old_path = f"{old_tile[:2].lstrip('0')}/{old_tile[2]}/{old_tile[3:]}"
    new_path = f"{zone}/{band}/{square}"
    text = texts[tpl_index]
    old_day = old.split("_")[2][:8]
    text = (
        text.replace(old, new_id)
        .replace(old_tile, tile)
        .replace(f"{old_path}/{old_day[:4]}/{int(old_day[4:6])}", f"{new_path}/{when.year}/{when.month}")
        .replace(old_path, new_path)
        .replace(old_day, when.strftime("%Y%m%d"))
    )
    item = json.loads(text)
    generated = when + timedelta(hours=7, minutes=rng.randint(0, 59))
    created = generated + timedelta(hours=2, seconds=rng.randint(0, 3599))
    p = item["properties"]
    p["datetime"] = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    p["created"] = p["updated"] = created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    p["platform"] = f"sentinel-2{sat.lower()}"
    p["proj:epsg"] = 32600 + zone
    p["mgrs:utm_zone"], p["mgrs:latitude_band"], p["mgrs:grid_square"] = zone, band, square
    p["grid:code"] = f"MGRS-{tile}"
    cloud = round(min(100.0, max(0.0, rng.betavariate(0.6, 1.2) * 100)), 6)
    p["eo:cloud_cover"] = cloud
    p["view:azimuth"] = rng.uniform(90, 300)
    p["view:incidence_angle"] = rng.uniform(1, 12)
    p["view:sun_azimuth"] = rng.uniform(120, 180)
    p["view:sun_elevation"] = 25 + 40 * math.sin(2 * math.pi * (when.timetuple().tm_yday - 80) / 365) ** 2
    rest = 100.0 - cloud
    for key in ["s2:vegetation_percentage", "s2:not_vegetated_percentage", "s2:water_percentage"]:
        share = round(rest * rng.random(), 6)
        p[key] = share
        rest -= share
    p["s2:nodata_pixel_percentage"] = round(rng.uniform(0, 60), 6)
    p["s2:high_proba_clouds_percentage"] = round(cloud * rng.uniform(0.3, 0.9), 6)
    p["s2:reflectance_conversion_factor"] = 1 + 0.0334 * math.cos(2 * math.pi * (when.timetuple().tm_yday - 3) / 365)
    geometry, bbox = footprint(rng, lon0, lat0)
    item["geometry"], item["bbox"] = geometry, bbox
    p["proj:centroid"] = {"lat": round(lat0 + 0.4, 5), "lon": round(lon0 + 0.5, 5)}
    x0 = 100000 * (1 + (t % 7)) - 40
    y0 = 100000 * (35 + (t // COLS)) + 9960
    for asset in item["assets"].values():
        if "file:size" in asset:
            asset["file:size"] = int(asset["file:size"] * rng.uniform(0.6, 1.4))
        if "file:checksum" in asset:
            asset["file:checksum"] = checksum(rng)
        tr = asset.get("proj:transform")
        if tr:
            asset["proj:transform"] = [tr[0], tr[1], x0, tr[3], tr[4], y0]
        for b in asset.get("raster:bands", []):
            if "statistics" in b:
                s = b["statistics"]
                for key in ("minimum", "maximum", "mean", "stddev"):
                    if key in s:
                        s[key] = round(s[key] * rng.uniform(0.7, 1.3), 4)
                if "valid_percent" in s:
                    s["valid_percent"] = round(rng.uniform(40, 100), 3)
    return item


def main():
    fixture, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    start = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    with open(fixture) as f:
        templates = json.load(f)["features"]
    texts = [json.dumps(t, separators=(",", ":")) for t in templates]
    with open(out, "w") as f:
        for k in range(start, start + n):
            f.write(json.dumps(make(templates, texts, k), separators=(",", ":")))
            f.write("\n")


if __name__ == "__main__":
    main()
