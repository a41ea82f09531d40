"""How a cube is described as an xarray Dataset: coordinates, the
`spatial_ref` coordinate, band attributes and the time axis, shaped like
`odc.stac.load`'s result (odc-geo's `.odc` accessor and rioxarray read it).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _render_geotransform(gt: list[float]) -> str:
    # odc-geo's rendering (24 decimals, trailing zeros dropped).
    return " ".join(f"{float(v):.24f}".rstrip("0").rstrip(".") for v in gt)


def _crs_attrs(crs: str, wkt: str | None, geotransform: list[float]) -> tuple[int, dict]:
    """The value and attributes of the `spatial_ref` coordinate: the CRS's
    CF grid mapping (pyproj), its WKT as `spatial_ref` and `crs_wkt`, and
    the GDAL `GeoTransform`."""
    cf: dict[str, Any] = {}
    code = 0
    is_epsg = crs.upper().startswith("EPSG:")
    try:
        import pyproj

        c = pyproj.CRS.from_user_input(crs if is_epsg else (wkt or crs))
        cf = c.to_cf()
        wkt = cf.get("crs_wkt") or c.to_wkt()
        code = c.to_epsg() or 0
    except ImportError:
        if is_epsg:
            code = int(crs.split(":", 1)[1])
        cf = {"crs_wkt": wkt}
    attrs: dict[str, Any] = {"spatial_ref": wkt, **cf}
    attrs["GeoTransform"] = _render_geotransform(geotransform)
    return code, attrs


def _units(attrs: dict) -> str:
    # CF grid mappings of geographic CRSs have no false_easting; projected
    # ones are in metres for every CRS this project plans in practice.
    return "degrees" if attrs.get("grid_mapping_name") == "latitude_longitude" else "metre"


def time_values(summary: dict) -> np.ndarray:
    """datetime64[ns] of each timestep (NaT for items without datetime)."""
    out = []
    for t in summary["time"]:
        d = t.get("datetime")
        out.append(np.datetime64(d.rstrip("Z"), "ns") if d else np.datetime64("NaT", "ns"))
    return np.array(out, dtype="datetime64[ns]")


def coords(summary: dict) -> dict:
    """`time`, `y`, `x` and `spatial_ref` coordinates of a planned cube."""
    import xarray as xr

    g = summary["grid"]
    gt = g["geotransform"]
    if gt[2] != 0 or gt[4] != 0:
        raise ValueError("a rotated grid has no 1-D x/y coordinates")
    rows, cols = g["rows"], g["cols"]
    code, sref = _crs_attrs(g["crs"], g.get("wkt"), gt)
    label = g["crs"] if ":" in g["crs"] and len(g["crs"]) < 32 else (f"EPSG:{code}" if code else g["crs"])
    units = _units(sref)
    x = gt[0] + (np.arange(cols) + 0.5) * gt[1]
    y = gt[3] + (np.arange(rows) + 0.5) * gt[5]
    return {
        "y": xr.DataArray(y, dims="y", attrs={"units": units, "resolution": gt[5], "crs": label}),
        "x": xr.DataArray(x, dims="x", attrs={"units": units, "resolution": gt[1], "crs": label}),
        "time": xr.DataArray(time_values(summary), dims="time"),
        "spatial_ref": xr.DataArray(np.int32(code), attrs=sref),
    }


def band_attrs(summary: dict, dtype: np.dtype) -> dict:
    """Attributes of each band variable (`nodata`, as odc-stac)."""
    nd = summary.get("nodata")
    if nd is None and np.issubdtype(dtype, np.floating) and summary.get("fusion") != "count":
        nd = float("nan")
    return {} if nd is None else {"nodata": dtype.type(nd).item()}


def dataset(summary: dict, bands: dict[str, Any]) -> Any:
    """An xarray Dataset from a cube's summary and one `(time, y, x)` array
    (NumPy or Dask) per band."""
    import xarray as xr

    c = coords(summary)
    data_vars = {}
    for name, arr in bands.items():
        v = xr.Variable(("time", "y", "x"), arr, attrs=band_attrs(summary, np.dtype(arr.dtype)))
        v.encoding["grid_mapping"] = "spatial_ref"
        data_vars[name] = v
    return xr.Dataset(data_vars, coords=c)
