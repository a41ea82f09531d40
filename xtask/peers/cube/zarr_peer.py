"""odc-stac + dask side of the Zarr write benchmark, and the store check.

Usage:
  python zarr_peer.py write ITEMS.json OUT.zarr THREADS MINX,MINY,MAXX,MAXY T,Y,X LEVEL
  python zarr_peer.py compare OURS.zarr THEIRS.zarr

`write`: `odc.stac.load(items, bands=B02,B03,B05, geobox=..., chunks=...)`
(uint16, fill 0, 10 m grid of those bounds in EPSG:32632, one timestep per
item time), then `to_zarr` as a Zarr v2 store with consolidated metadata,
chunks T,Y,X and numcodecs `Zstd(level=LEVEL)` on dask's threaded scheduler
with THREADS workers. Prints, as JSON, the seconds from the load call to
the end of `to_zarr` (imports and item parsing excluded), the shape and
the versions.

`compare`: opens both stores with xarray and prints, as JSON, whether every
band variable is equal pixel for pixel, and the `time`, `y` and `x`
coordinates too (read a timestep at a time to keep memory small).
"""

import json
import sys
import time

import numpy as np

BANDS = ["B02", "B03", "B05"]
EPSG = 32632


def write(path, out, threads, bounds, chunks, level):
    import dask
    import numcodecs
    import odc.stac
    import pystac
    from affine import Affine
    from odc.geo.geobox import GeoBox

    with open(path) as f:
        items = [pystac.Item.from_dict(d) for d in json.load(f)["features"]]
    minx, miny, maxx, maxy = bounds
    res = 10.0
    shape = (round((maxy - miny) / res), round((maxx - minx) / res))
    gbox = GeoBox(shape, Affine(res, 0, minx, 0, -res, maxy), f"EPSG:{EPSG}")
    ct, cy, cx = chunks
    start = time.perf_counter()
    ds = odc.stac.load(
        items,
        bands=BANDS,
        geobox=gbox,
        groupby="time",
        dtype="uint16",
        nodata=0,
        chunks={"time": ct, "y": cy, "x": cx},
    )
    encoding = {
        b: {"chunks": (ct, cy, cx), "compressors": (numcodecs.Zstd(level=level),)} for b in BANDS
    }
    with dask.config.set(scheduler="threads", num_workers=threads):
        ds.to_zarr(out, mode="w", zarr_format=2, consolidated=True, encoding=encoding)
    seconds = time.perf_counter() - start
    from importlib.metadata import version

    v = {p: version(p) for p in ["odc-stac", "dask", "xarray", "zarr", "numcodecs"]}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "shape": [ds.sizes["time"], len(BANDS), ds.sizes["y"], ds.sizes["x"]],
                "versions": v,
            }
        )
    )


def compare(ours, theirs):
    import xarray as xr

    a = xr.open_zarr(ours, consolidated=True)
    b = xr.open_zarr(theirs, consolidated=True)
    out = {"coords": {}, "bands": {}, "compressor": {}}
    for c in ["time", "y", "x"]:
        out["coords"][c] = bool(
            a[c].shape == b[c].shape and np.array_equal(a[c].values, b[c].values)
        )
    for band in BANDS:
        va, vb = a[band], b[band]
        same = va.shape == vb.shape and va.dtype == vb.dtype
        n = 0
        t = 0
        while same and t < va.shape[0]:
            pa, pb = va[t].values, vb[t].values
            same = np.array_equal(pa, pb)
            n += int(np.count_nonzero(pa))
            t += 1
        out["bands"][band] = {"equal": bool(same), "valid_pixels": n}
        out["compressor"][band] = [
            str(va.encoding.get("compressors", va.encoding.get("compressor"))),
            str(vb.encoding.get("compressors", vb.encoding.get("compressor"))),
        ]
    out["same"] = all(out["coords"].values()) and all(
        v["equal"] for v in out["bands"].values()
    )
    print(json.dumps(out))


def main():
    if sys.argv[1] == "write":
        bounds = [float(v) for v in sys.argv[5].split(",")]
        chunks = [int(v) for v in sys.argv[6].split(",")]
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]), bounds, chunks, int(sys.argv[7]))
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
