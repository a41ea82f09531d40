"""`load`: STAC items to an xarray Dataset through the Rust cube engine,
eagerly into NumPy or lazily as Dask arrays (one task per chunk)."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import _layout, _native
from ._items import items_json

#: Chunk sizes for the dims `chunks=` does not name.
DEFAULT_CHUNKS = {"time": 1, "y": 2048, "x": 2048}


def _crs_text(crs: Any) -> str:
    if isinstance(crs, int):
        return f"EPSG:{crs}"
    to_wkt = getattr(crs, "to_wkt", None)
    if callable(to_wkt):  # pyproj / odc-geo CRS
        epsg = getattr(crs, "epsg", None)
        if isinstance(epsg, int):
            return f"EPSG:{epsg}"
        return to_wkt()
    return str(crs)


def _like_grid(like: Any) -> dict:
    """A complete grid from an xarray object (its `spatial_ref` coordinate's
    `GeoTransform` and CRS, as stac_gdal and odc-stac write it, else odc-geo's
    `.odc.geobox`) or an odc-geo GeoBox."""
    coords = getattr(like, "coords", None)
    if coords is not None and "spatial_ref" in coords and "GeoTransform" in coords["spatial_ref"].attrs:
        sref = coords["spatial_ref"]
        gt = [float(v) for v in sref.attrs["GeoTransform"].split()]
        code = int(sref.values)
        crs = f"EPSG:{code}" if code else sref.attrs.get("crs_wkt") or sref.attrs["spatial_ref"]
        sizes = like.sizes
        rows = sizes["y"] if "y" in sizes else sizes["latitude"]
        cols = sizes["x"] if "x" in sizes else sizes["longitude"]
        return {"crs": crs, "geotransform": gt, "rows": int(rows), "cols": int(cols)}
    try:
        gbox = like.odc.geobox
    except AttributeError:
        gbox = like
    a = gbox.affine
    h, w = gbox.shape
    return {
        "crs": _crs_text(gbox.crs),
        "geotransform": [a.c, a.a, a.b, a.f, a.d, a.e],
        "rows": int(h),
        "cols": int(w),
    }


def _options(
    *,
    crs=None, resolution=None, bbox=None, x=None, y=None, like=None, groupby=None,
    fusion="first", resampling="nearest", dtype=None, nodata=None, pool=None,
    fail_on_error=True, anchor="auto", time_order="sorted",
) -> dict:
    o: dict[str, Any] = {}
    if like is not None:
        o["grid"] = _like_grid(like)
    if crs is not None:
        o["crs"] = _crs_text(crs)
    if resolution is not None:
        if isinstance(resolution, (int, float)):
            o["resolution"] = [abs(float(resolution))] * 2
        else:
            rx, ry = resolution
            o["resolution"] = [abs(float(rx)), abs(float(ry))]
    if bbox is not None:
        b = [float(v) for v in bbox]
        o["bbox"] = b
        if x is None and y is None and like is None:
            o["bounds_lonlat"] = b
    if x is not None or y is not None:
        if x is None or y is None:
            raise ValueError("give both x=(x0, x1) and y=(y0, y1)")
        o["bounds"] = [min(x), min(y), max(x), max(y)]
    if groupby is not None:
        if callable(groupby):
            raise TypeError("a callable groupby= is applied by plan(), not here")
        o["groupby"] = str(groupby)
    if fusion and fusion != "first":
        o["fusion"] = str(fusion)
    if resampling is not None:
        if isinstance(resampling, Mapping):
            o["asset_resampling"] = {k: str(v) for k, v in resampling.items() if k != "*"}
            if "*" in resampling:
                o["resampling"] = str(resampling["*"])
        elif resampling != "nearest":
            o["resampling"] = str(resampling)
    if dtype is not None:
        o["dtype"] = np.dtype(dtype).name
    if isinstance(nodata, Mapping):
        # Per band (asset key): the value its pixels use for nodata,
        # replacing what raster:bands or the file declares; "*" is the
        # cube's nodata (as "*" is the default in a resampling mapping).
        o["asset_nodata"] = {str(k): float(v) for k, v in nodata.items() if k != "*"}
        if "*" in nodata:
            o["nodata"] = float(nodata["*"])
    elif nodata is not None:
        o["nodata"] = float(nodata)
    if pool is not None:
        o["threads"] = int(pool)
    if not fail_on_error:
        o["fail_on_error"] = False
    if anchor not in (None, "auto"):
        o["anchor"] = str(anchor)
    if time_order not in (None, "sorted"):
        o["time_order"] = str(time_order)
    return o


def _progress_printer() -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        sys.stderr.write(f"\rstac_gdal.load: {done}/{total} sources")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


#: The property a callable ``groupby`` writes its keys to (then grouped by
#: name in Rust, so the plan stays data that pickles to Dask workers).
GROUP_PROPERTY = "stac_gdal:group"


def _group_arity(fn: Callable) -> int:
    """1 for ``fn(item)``, 3 for odc-stac's ``fn(item, parsed, idx)``."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return 3
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return 3 if len(positional) >= 3 else 1


def _group_key_json(key: Any, item_id: Any) -> Any:
    """A key as a JSON value that orders like the key (dates and times as
    ISO text, numbers and text as themselves)."""
    import datetime as _dt

    if isinstance(key, (_dt.datetime, _dt.date)):
        return key.isoformat()
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, bool) or key is None:
        raise TypeError(f"groupby function returned {key!r} for item {item_id!r}: "
                        "a key must be text, a number, a date or a datetime")
    if isinstance(key, (str, int, float)):
        return key
    return str(key)


def _group_with(fn: Callable, items: Any, text: str) -> str:
    """The items (JSON array text) with ``fn``'s key of each in
    ``properties[GROUP_PROPERTY]``. ``fn`` gets the items as given (pystac
    Items stay pystac Items, anything else the dicts), and with three
    parameters odc-stac's ``(item, None, index)``: no ParsedItem here."""
    dicts = json.loads(text)
    objs: Sequence[Any] = dicts
    if not isinstance(items, (str, dict)) and hasattr(items, "__iter__") \
            and not hasattr(items, "assets") and not hasattr(items, "__arrow_c_stream__"):
        given = list(items)
        if len(given) == len(dicts) and all(not isinstance(o, dict) for o in given):
            objs = given
    arity = _group_arity(fn)
    for i, (d, obj) in enumerate(zip(dicts, objs)):
        key = fn(obj, None, i) if arity == 3 else fn(obj)
        props = d.get("properties")
        if not isinstance(props, dict):
            props = d["properties"] = {}
        props[GROUP_PROPERTY] = _group_key_json(key, d.get("id"))
    return json.dumps(dicts)


def plan(
    items: Any,
    bands: str | Sequence[str] | None = None,
    *,
    patch_url: Callable[[str], str] | None = None,
    signer: Any = None,
    progress: Any = False,
    **options: Any,
) -> "_native.Cube":
    """Plan a cube (no pixel is read): the `Cube` that `load` reads.

    Takes `load`'s arguments except `chunks`."""
    text = items_json(items)
    groupby = options.get("groupby")
    if callable(groupby):
        text = _group_with(groupby, items, text)
        options = {**options, "groupby": GROUP_PROPERTY}
    if bands is None:
        first = json.loads(text)[:1]
        if not first:
            raise _native.CubeError("no items to build a cube from: the input is empty")
        bands = _native.raster_asset_keys(json.dumps(first[0]))
    elif isinstance(bands, str):
        bands = [bands]
    spec = (
        '{"items":' + text + ',"assets":' + json.dumps(list(bands))
        + ',"options":' + json.dumps(_options(**options)) + "}"
    )
    prog = _progress_printer() if progress is True else (progress or None)
    return _native.Cube(spec, patch_url=patch_url, progress=prog, signer=signer)


def _chunk(cube: "_native.Cube", t0: int, t1: int, band: int, window: tuple,
           dtype: str, fill: Any) -> np.ndarray:
    """One Dask task: timesteps t0..t1 of one band over one window. A window
    no source of these timesteps overlaps is nodata (the whole cube was
    checked not to be empty when it was planned)."""
    try:
        return cube.load_chunk(t0, t1, [band], window)[:, 0]
    except _native.CubeError as e:
        if getattr(e, "kind", None) != "Empty":
            raise
        return np.full((t1 - t0, window[2], window[3]), fill, dtype=dtype)


def _splits(n: int, size: int) -> tuple[int, ...]:
    if size is None or size == -1 or size >= n or n == 0:
        return (n,)
    size = max(1, int(size))
    return tuple([size] * (n // size) + ([n % size] if n % size else []))


def _dask_bands(cube: "_native.Cube", summary: dict, chunks: Mapping[str, int]) -> dict:
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    nt, nb, rows, cols = summary["shape"]
    alias = {"latitude": "y", "longitude": "x"}
    named = {alias.get(k, k): v for k, v in chunks.items()}
    unknown = set(named) - set(DEFAULT_CHUNKS)
    if unknown:
        raise ValueError(f"chunks: unknown dimension(s) {sorted(unknown)}; use time, y, x")
    want = {**DEFAULT_CHUNKS, **named}
    tc, yc, xc = (_splits(n, want[d]) for n, d in ((nt, "time"), (rows, "y"), (cols, "x")))
    dtype = np.dtype(summary["dtype"])
    fill = summary.get("nodata")
    fill = (np.nan if dtype.kind == "f" else 0) if fill is None else fill
    token = tokenize(cube.spec_json())
    plan_name = f"stac_gdal-plan-{token}"
    plan_key = (plan_name, 0)
    offs = lambda sizes: np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    to, yo, xo = offs(tc), offs(yc), offs(xc)
    out = {}
    for b, name in enumerate(summary["bands"]):
        layer = f"stac_gdal-load-{name}-{token}"
        dsk = {}
        for i in range(len(tc)):
            for j in range(len(yc)):
                for k in range(len(xc)):
                    window = (int(yo[j]), int(xo[k]), int(yc[j]), int(xc[k]))
                    dsk[(layer, i, j, k)] = (
                        _chunk, plan_key, int(to[i]), int(to[i + 1]), b, window, dtype.str, fill,
                    )
        graph = HighLevelGraph(
            {plan_name: {plan_key: cube}, layer: dsk},
            {plan_name: set(), layer: {plan_name}},
        )
        out[name] = da.Array(graph, layer, (tc, yc, xc), dtype=dtype)
    return out


def load(
    items: Any,
    bands: str | Sequence[str] | None = None,
    *,
    crs: Any = None,
    resolution: float | tuple[float, float] | None = None,
    bbox: Sequence[float] | None = None,
    x: tuple[float, float] | None = None,
    y: tuple[float, float] | None = None,
    like: Any = None,
    groupby: str | Callable[..., Any] | None = None,
    fusion: str = "first",
    resampling: str | Mapping[str, str] = "nearest",
    dtype: Any = None,
    nodata: float | Mapping[str, float] | None = None,
    chunks: Mapping[str, int] | None = None,
    pool: int | None = None,
    fail_on_error: bool = True,
    patch_url: Callable[[str], str] | None = None,
    signer: Any = None,
    progress: Any = False,
    anchor: str = "auto",
    time_order: str = "sorted",
) -> Any:
    """Load STAC items as an ``xarray.Dataset``, like ``odc.stac.load``.

    One variable per band with dims ``(time, y, x)``; ``time``/``y``/``x``
    coordinates (pixel centres); a ``spatial_ref`` coordinate holding the
    CRS (read by odc-geo's ``.odc`` and by rioxarray); a ``nodata``
    attribute per band.

    ``items``: pystac Items, dicts, an ItemCollection, a list of those, or a
    path to JSON/NDJSON/GeoParquet. ``bands``: asset keys (``key.N`` /
    ``key.name`` pick a band of a multi-band asset); default every raster
    asset of the first item.

    Grid: ``crs`` (default the most common), ``resolution`` (default the
    finest), ``bbox`` (lon/lat; also filters items) or ``x``/``y`` ranges in
    the grid CRS, or ``like`` (an xarray object with ``.odc.geobox``, or a
    GeoBox). ``anchor="auto"`` keeps the sources' own pixel alignment (as
    odc-stac does for sources on one lattice); ``anchor="edge"`` puts pixel
    edges on multiples of the resolution (``gdalwarp -tap``).

    Time: one timestep per item sorted by (datetime, id) by default;
    ``groupby="time"`` is odc-stac's default (items with equal datetimes
    fused), ``"solar_day"``, ``"id"`` or a property name group too, fused by
    ``fusion`` (first valid pixel by default). ``groupby`` may also be a
    function of an item returning its key (text, a number, a date), or
    odc-stac's ``f(item, parsed, idx)`` (called with ``parsed=None``); it
    gets pystac Items when given pystac Items, else dicts, and runs once
    per item when the plan is made (the keys travel with the plan).

    ``chunks=None`` loads now, into NumPy arrays that own the Rust buffer
    (no copy), with the GIL released, on ``pool`` threads (default: all
    cores). ``chunks={"time": 1, "y": 2048, "x": 2048}`` returns Dask
    arrays; each chunk is one task loading one window through the Rust
    plan, which pickles as JSON; nothing is read until compute.

    ``nodata``: the cube's nodata (default: the first declared source
    nodata), or a mapping band (asset key) → the value that band's pixels
    use for nodata (replacing ``raster:bands``/the file), with ``"*"`` for
    the cube's nodata.

    ``fail_on_error=False`` fills unreadable sources with nodata (listed in
    ``ds.attrs["failures"]`` for eager loads). ``patch_url`` rewrites hrefs,
    ``signer`` (a ``stac_gdal.Signer``) signs them; ``progress=True`` prints
    progress, or takes a ``callable(done, total)``.
    """
    cube = plan(
        items, bands, patch_url=patch_url, signer=signer, progress=progress,
        crs=crs, resolution=resolution, bbox=bbox, x=x, y=y, like=like,
        groupby=groupby, fusion=fusion, resampling=resampling, dtype=dtype,
        nodata=nodata, pool=pool, fail_on_error=fail_on_error, anchor=anchor,
        time_order=time_order,
    )
    summary = json.loads(cube.summary_json())
    layout = json.loads(cube.layout_json())
    if chunks is None:
        arr, failures = cube.load()
        # Views of the one Rust buffer: no copy per band.
        ds = _layout.dataset(layout, {n: arr[:, i] for i, n in enumerate(summary["bands"])})
        fails = json.loads(failures)
        if fails:
            ds.attrs["failures"] = json.dumps(fails)
        return ds
    return _layout.dataset(layout, _dask_bands(cube, summary, chunks))
