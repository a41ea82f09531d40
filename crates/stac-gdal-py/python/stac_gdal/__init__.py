"""stac_gdal: STAC catalogs as xarray cubes, loaded by the Rust engine.

``load`` is shaped like ``odc.stac.load``; the rest follows pyramids.stac's
names. Errors are ``StacGdalError`` subclasses mirroring the Rust error
enums (``CubeError``, ``MetaError``, ...), with the same messages.
"""

from __future__ import annotations

import json
from typing import Any

from . import _native
from ._items import item_dicts
from ._load import load, plan
from ._native import (
    CubeError,
    GeoParquetError,
    MetaError,
    RasterError,
    Signer,
    SignerError,
    StacGdalError,
    VrtError,
)

__version__ = _native.__version__

__all__ = [
    "CubeError",
    "GeoParquetError",
    "MetaError",
    "RasterError",
    "Signer",
    "SignerError",
    "StacGdalError",
    "VrtError",
    "item_dicts",
    "load",
    "plan",
    "read_extension_metadata",
    "resolved_href",
    "which_engine",
]


def _item_json(item: Any) -> str:
    items = item_dicts(item)
    if len(items) != 1:
        raise ValueError(f"expected one item, got {len(items)}")
    return json.dumps(items[0])


def read_extension_metadata(item: Any, asset: str | None = None) -> dict:
    """The projection and raster metadata of an item (or one asset), read
    from the STAC JSON alone (no I/O): ``epsg``, ``crs``, ``transform``,
    ``geotransform``, ``shape``, ``raster_bands``, ``eo_bands``,
    ``band_names``."""
    return json.loads(_native.read_extension_metadata(_item_json(item), asset))


def which_engine(item: Any, asset: str | None = None) -> str:
    """Which reader an asset needs: ``gdal``, ``netcdf``, ``grib`` or ``zarr``."""
    return _native.which_engine(_item_json(item), asset)


def resolved_href(item: Any, asset: str | None = None, signer: Signer | None = None) -> str:
    """The asset's href resolved against the item's ``self`` link, then signed."""
    return _native.resolved_href(_item_json(item), asset, signer)
