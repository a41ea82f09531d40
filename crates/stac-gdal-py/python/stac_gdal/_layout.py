"""The xarray Dataset of a cube, built from the Rust layout
(`stac_cube::layout::CubeLayout`, the same description the Zarr and NetCDF
writers use), so `load` and the written stores describe a cube alike:

- one variable per band, dims `(time, y, x)` (`latitude`/`longitude` for a
  geographic CRS), with the layout's attributes (`nodata`, scale/offset,
  `common_name`, `wavelength`); `grid_mapping` and `coordinates` go to the
  variable's encoding, where xarray keeps them for an opened store;
- `time` (datetime64[ns]; its CF units/calendar in the encoding), `y`/`x`
  pixel centres with `units`, `resolution`, `crs`;
- `spatial_ref`: int32 EPSG code (or 0) with `spatial_ref`/`crs_wkt` (WKT)
  and `GeoTransform`, plus the CF grid-mapping parameters pyproj derives
  from the CRS (what odc-stac adds, when pyproj is installed);
- per-timestep string coordinates `stac_items` (ids joined by `,`) and,
  grouped, `group_key`; the global attribute `stac_items` (JSON).

This is `odc.stac.load`'s Dataset plus the `stac_items`/`group_key`
coordinates and the `stac_items` attribute.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

#: Attributes a band's layout holds that xarray keeps in `encoding`.
_ENCODING_ATTRS = ("grid_mapping", "coordinates")


def _cf_params(wkt: str) -> dict:
    """CF grid-mapping parameters of a CRS (pyproj's `to_cf`), without the
    WKT keys the layout already sets (a copy: callers may change it)."""
    return dict(_cf_params_of(wkt))


@lru_cache(maxsize=16)
def _cf_params_of(wkt: str) -> dict:
    # Parsing a WKT and deriving CF parameters costs milliseconds; a
    # session loads cubes on a few CRSs, over and over.
    try:
        import pyproj
    except ImportError:
        return {}
    cf = pyproj.CRS.from_user_input(wkt).to_cf()
    cf.pop("crs_wkt", None)
    return cf


def _time(layout: dict) -> np.ndarray:
    return np.array(
        [np.datetime64("NaT", "ns") if v is None else np.datetime64(int(v), "ns")
         for v in layout["time"]["values"]],
        dtype="datetime64[ns]",
    )


def coords(layout: dict) -> dict:
    """Every coordinate of the cube's Dataset."""
    import xarray as xr

    tdim, ydim, xdim = layout["dims"]
    out: dict[str, Any] = {}
    for c in (layout["y"], layout["x"]):
        out[c["name"]] = xr.DataArray(np.asarray(c["values"], dtype="float64"), dims=c["name"],
                                      attrs=dict(c["attrs"]))
    time = xr.Variable(tdim, _time(layout))
    time.encoding.update(layout["time"]["attrs"])
    out[tdim] = time
    sr = layout["spatial_ref"]
    attrs = dict(sr["attrs"])
    gt = attrs.pop("GeoTransform")
    attrs.update({k: v for k, v in _cf_params(attrs["crs_wkt"]).items() if k not in attrs})
    attrs["GeoTransform"] = gt
    out["spatial_ref"] = xr.DataArray(np.int32(sr["value"]), attrs=attrs)
    for name, values in layout["string_coords"]:
        out[name] = xr.Variable(tdim, np.array(values, dtype=object))
    return out


def dataset(layout: dict, bands: dict[str, Any]) -> Any:
    """The Dataset of a cube from its layout and one `(time, y, x)` array
    (NumPy or Dask) per band, in layout order."""
    import xarray as xr

    dims = tuple(layout["dims"])
    data_vars = {}
    for b in layout["bands"]:
        arr = bands[b["name"]]
        attrs = dict(b["attrs"])
        enc = {k: attrs.pop(k) for k in _ENCODING_ATTRS if k in attrs}
        v = xr.Variable(dims, arr, attrs=attrs)
        v.encoding.update(enc)
        data_vars[b["name"]] = v
    return xr.Dataset(data_vars, coords=coords(layout), attrs=dict(layout["attrs"]))
