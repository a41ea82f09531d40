"""odc-stac and stackstac side of the cube benchmark.

Usage: python peers.py odc|stackstac ITEMS.json stack|mosaic THREADS [--cloud]

Loads the items' B02, B03, B05 assets as a uint16 cube (fill 0) on the
10 m grid, into memory, with THREADS threads: case `stack` one timestep
per item, case `mosaic` grouped by solar day with the first valid pixel
(in time order) winning. Prints, as JSON: the seconds spent loading
(imports and item parsing excluded), the cube's shape and geotransform,
and the checksums the bench compares across tools (per-band sums, and
the sum over planes of plane sum x (t * bands + b + 1)).

With --cloud (assets on an HTTP server), odc-stac is configured as its
documentation advises for cloud storage, `configure_rio(cloud_defaults=True)`
(no directory listing on open, retries); stackstac keeps its own defaults
(which already set GDAL_DISABLE_READDIR_ON_OPEN and VSI_CACHE on open).
"""

import json
import sys
import time

import numpy as np
import pystac

BANDS = ["B02", "B03", "B05"]
EPSG = 32632


def checksums(bands):
    """bands: one (time, y, x) numpy array per band (views, no copy)."""
    plane = np.stack([b.sum(axis=(1, 2), dtype=np.uint64) for b in bands], axis=1)
    nt, nb = plane.shape
    weight = np.arange(1, nt * nb + 1, dtype=np.uint64).reshape(nt, nb)
    return {
        "band_sums": [int(v) for v in plane.sum(axis=0)],
        "plane_checksum": int((plane * weight).sum()),
    }


def run_odc(items, case, threads, cloud):
    import odc.stac

    if cloud:
        odc.stac.configure_rio(cloud_defaults=True)
    start = time.perf_counter()
    ds = odc.stac.load(
        items,
        bands=BANDS,
        groupby="solar_day" if case == "mosaic" else "time",
        crs=f"EPSG:{EPSG}",
        resolution=10,
        dtype="uint16",
        nodata=0,
        chunks=None,
        pool=threads,
    )
    seconds = time.perf_counter() - start
    gt = ds.odc.geobox.affine
    return seconds, [ds[b].values for b in BANDS], [gt.c, gt.a, gt.b, gt.f, gt.d, gt.e]


def run_stackstac(items, case, threads, cloud):
    import dask
    import pandas as pd
    import stackstac

    # The same bounds as the others (the union of the footprints in the
    # grid CRS; stackstac would otherwise pad its reprojected lon/lat bbox).
    xs, ys = [], []
    for it in items:
        a = it.assets[BANDS[0]].extra_fields
        t, (h, w) = a["proj:transform"], a["proj:shape"]
        xs += [t[2], t[2] + w * t[0]]
        ys += [t[5], t[5] + h * t[4]]
    start = time.perf_counter()
    arr = stackstac.stack(
        items,
        assets=BANDS,
        epsg=EPSG,
        resolution=10,
        bounds=(min(xs), min(ys), max(xs), max(ys)),
        dtype="uint16",
        fill_value=np.uint16(0),
        rescale=False,
    )
    gt = arr.attrs["transform"]
    if case == "mosaic":
        lon = np.mean([it.bbox[0] + it.bbox[2] for it in items]) / 2
        solar = (arr.time + pd.to_timedelta(lon / 15, unit="h")).dt.floor("D")
        arr = arr.assign_coords(solar_day=("time", solar.data)).groupby("solar_day").map(
            lambda g: stackstac.mosaic(g, dim="time", reverse=True, nodata=0)
        )
    with dask.config.set(scheduler="threads", num_workers=threads):
        cube = arr.compute().values
    seconds = time.perf_counter() - start
    return seconds, [cube[:, i] for i in range(len(BANDS))], [gt.c, gt.a, gt.b, gt.f, gt.d, gt.e]


def versions(tool):
    from importlib.metadata import version

    import rasterio

    pkgs = ["odc-stac", "odc-loader"] if tool == "odc" else ["stackstac", "dask"]
    v = {p: version(p) for p in pkgs + ["rasterio", "numpy"]}
    v["gdal"] = rasterio.__gdal_version__
    return v


def main():
    tool, path, case, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cloud = "--cloud" in sys.argv[5:]
    with open(path) as f:
        items = [pystac.Item.from_dict(d) for d in json.load(f)["features"]]
    run = {"odc": run_odc, "stackstac": run_stackstac}[tool]
    seconds, bands, gt = run(items, case, threads, cloud)
    nt, h, w = bands[0].shape
    out = {
        "seconds": seconds,
        "shape": [nt, len(bands), h, w],
        "dtype": str(bands[0].dtype),
        "geotransform": gt,
    }
    out.update(checksums(bands))
    out["versions"] = versions(tool)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
