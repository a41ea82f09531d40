"""Generate N Sentinel-2-like STAC items (NDJSON) from the Earth Search fixture.

Usage: python generate.py FIXTURE.json OUT.ndjson N

Each item is a copy of one of the fixture's 10 items with a unique id, a
datetime moved by a few minutes (microseconds kept), and geometry / bbox
shifted on a grid, so that no two rows are alike. Standard library only.
"""

import copy
import datetime as dt
import json
import sys


def shift(coords, dx, dy):
    if coords and isinstance(coords[0], (int, float)):
        return [round(coords[0] + dx, 9), round(coords[1] + dy, 9), *coords[2:]]
    return [shift(c, dx, dy) for c in coords]


def main():
    fixture, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(fixture) as f:
        templates = json.load(f)["features"]
    base = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    with open(out, "w") as f:
        for i in range(n):
            item = copy.deepcopy(templates[i % len(templates)])
            item["id"] = f"{item['id']}-{i:06d}"
            dx, dy = (i % 300) * 0.01, ((i // 300) % 300) * 0.01
            item["geometry"]["coordinates"] = shift(item["geometry"]["coordinates"], dx, dy)
            b = item["bbox"]
            item["bbox"] = [round(b[0] + dx, 9), round(b[1] + dy, 9), round(b[2] + dx, 9), round(b[3] + dy, 9)]
            when = base + dt.timedelta(minutes=7 * i, microseconds=(i * 7919) % 1_000_000)
            item["properties"]["datetime"] = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            item["properties"]["eo:cloud_cover"] = round((i * 37 % 10000) / 100.0 + 0.001, 3)
            f.write(json.dumps(item, separators=(",", ":")))
            f.write("\n")


if __name__ == "__main__":
    main()
