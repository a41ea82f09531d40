"""Items in any form stac_gdal accepts, as one JSON array text.

Accepted: a pystac Item, a plain dict (an Item or a FeatureCollection), a
pystac ItemCollection, an iterable of any of these, or a path (str or
os.PathLike) to a JSON, NDJSON or GeoParquet file (read in Rust), or an
Arrow table in stac-geoparquet's layout (any object with
``__arrow_c_stream__``, decoded in Rust).
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable

from . import _native


def _as_dict(obj: Any) -> Any:
    if isinstance(obj, dict):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        # pystac: hrefs as stored (resolved against the self link in Rust).
        try:
            return to_dict(transform_hrefs=False)
        except TypeError:
            return to_dict()
    raise TypeError(
        f"expected a STAC Item (dict or pystac.Item), got {type(obj).__name__}"
    )


def item_dicts(items: Any) -> list[dict]:
    """The items as a list of dicts (a path is read in Rust)."""
    return json.loads(items_json(items))


def items_json(items: Any) -> str:
    """The items as the text of a JSON array."""
    if isinstance(items, (str, os.PathLike)):
        return _native.read_items_json(os.fspath(items))
    if hasattr(items, "__arrow_c_stream__"):
        return _native.arrow_to_items_json(items)
    # An ItemCollection (pystac) iterates its items; a FeatureCollection
    # dict holds them under "features".
    if isinstance(items, dict):
        if items.get("type") == "FeatureCollection":
            items = items.get("features") or []
        else:
            items = [items]
    elif hasattr(items, "to_dict") and not hasattr(items, "assets"):
        items = list(items)  # ItemCollection
    elif not isinstance(items, Iterable) or hasattr(items, "assets"):
        items = [items]
    out: list[Any] = []
    for it in items:
        d = _as_dict(it)
        if isinstance(d, dict) and d.get("type") == "FeatureCollection":
            out.extend(d.get("features") or [])
        else:
            out.append(d)
    return json.dumps(out)
