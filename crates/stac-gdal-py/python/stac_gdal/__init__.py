"""stac_gdal: STAC catalogs as xarray cubes, loaded by the Rust engine.

``load`` is shaped like ``odc.stac.load``; the rest follows pyramids.stac's
names. Errors are ``StacGdalError`` subclasses mirroring the Rust error
enums (``CubeError``, ``MetaError``, ...), with the same messages.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

from . import _native
from ._items import item_dicts, items_json
from ._load import load, plan
from ._native import (
    ArrowTable,
    ClientError,
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
    "ArrowTable",
    "ClientError",
    "CubeError",
    "download_item",
    "search",
    "GeoParquetError",
    "MetaError",
    "RasterError",
    "Signer",
    "SignerError",
    "StacGdalError",
    "VrtError",
    "build_vrt_from_stac",
    "from_arrow",
    "from_geoparquet",
    "item_dicts",
    "load",
    "plan",
    "read_extension_metadata",
    "resolved_href",
    "to_arrow",
    "to_geoparquet",
    "to_stac_item",
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


def to_geoparquet(data: Any, path: str | os.PathLike) -> int:
    """Write items to a stac-geoparquet file, written under a temp name and
    renamed; returns the number of rows.

    ``data`` is any form ``load`` takes, or an Arrow table in
    stac-geoparquet's layout: any object with ``__arrow_c_stream__`` (a
    pyarrow Table or RecordBatchReader, the output of
    ``stac_geoparquet.arrow.parse_stac_items_to_arrow``, rustac's tables,
    an ``ArrowTable``). A table is read through the Arrow C stream
    interface without copying it, with the GIL released."""
    if hasattr(data, "__arrow_c_stream__"):
        return _native.arrow_to_geoparquet(data, os.fspath(path))
    return _native.to_geoparquet(items_json(data), os.fspath(path))


def from_geoparquet(path: str | os.PathLike, *, arrow: bool = False) -> list[dict] | ArrowTable:
    """The items of a stac-geoparquet file (ours, stac-geoparquet's,
    rustac's or pyramids' JSON-blob layout) as dicts, or with
    ``arrow=True`` its record batches as stored, in an ``ArrowTable``
    (``pyarrow.table(t)`` reads it without copying)."""
    if arrow:
        return _native.read_geoparquet_arrow(os.fspath(path))
    return item_dicts(os.fspath(path))


def to_arrow(data: Any, *, layout: str = "spec") -> ArrowTable:
    """Items (any form ``load`` takes) as an Arrow table in
    stac-geoparquet's layout: the record batches ``to_geoparquet`` would
    write, with the file's metadata (``geo``, ``stac-geoparquet``) on the
    schema. ``layout="blob"`` gives pyramids' JSON-blob layout. An object
    with ``__arrow_c_stream__`` is imported as it is (no copy).

    The result implements ``__arrow_c_stream__``: ``pyarrow.table(t)``,
    ``pyarrow.RecordBatchReader.from_stream(t)`` or ``polars.DataFrame(t)``
    read it without copying."""
    if hasattr(data, "__arrow_c_stream__"):
        return ArrowTable.from_arrow(data)
    if layout not in ("spec", "blob"):
        raise ValueError(f"layout must be 'spec' or 'blob', got {layout!r}")
    return _native.items_to_arrow(items_json(data), layout == "blob")


def from_arrow(table: Any) -> list[dict]:
    """The items of an Arrow table in stac-geoparquet's layout (any object
    with ``__arrow_c_stream__``: ours, pyarrow's, stac-geoparquet's,
    rustac's), decoded as ``from_geoparquet`` decodes a file's."""
    return json.loads(_native.arrow_to_items_json(table))


def build_vrt_from_stac(items: Any, asset: str, path: str | os.PathLike | None = None) -> str:
    """A VRT mosaic of one asset of the items (from the metadata alone when
    the items carry it). Written to ``path`` when given; returns the XML."""
    return _native.build_vrt_from_stac(
        items_json(items), asset, None if path is None else os.fspath(path)
    )


def to_stac_item(path: str | os.PathLike, id: str, datetime: str | None = None,
                 asset_key: str = "data") -> dict:
    """A STAC Item describing a raster file (pyramids' ``Dataset.to_stac_item``):
    projection, raster bands and footprint read from the file."""
    return json.loads(_native.to_stac_item(os.fspath(path), id, datetime, asset_key))


def search(
    url: str,
    *,
    collections: list[str] | None = None,
    ids: list[str] | None = None,
    bbox: list[float] | None = None,
    datetime: str | None = None,
    query: dict | None = None,
    limit: int | None = None,
    max_items: int | None = None,
    signer: Signer | None = None,
) -> Iterator[dict]:
    """STAC API Item Search: a generator of item dicts. Pages are fetched
    as the generator is consumed (the next one prefetched), with retries,
    deadlines and loop detection; the signer signs requests to the API's
    origin and the origins it is scoped to."""
    params = {
        "collections": collections, "ids": ids, "bbox": bbox, "datetime": datetime,
        "query": query, "limit": limit, "max_items": max_items,
    }
    params = {k: v for k, v in params.items() if v is not None}
    for text in _native.search(url, json.dumps(params), signer):
        yield json.loads(text)


def download_item(item: Any, directory: str | os.PathLike, *, signer: Signer | None = None,
                  include: list[str] | None = None, rasters_only: bool = False) -> dict:
    """Download an item's assets into ``directory`` (sizes and checksums
    verified; nothing appears under a final name unless every asset
    arrived). Returns the item with hrefs pointing at the local files."""
    return json.loads(
        _native.download_item(_item_json(item), os.fspath(directory), signer, include,
                              rasters_only)
    )
