"""Arrow tables exchanged through the PyCapsule interface
(``__arrow_c_stream__``): no copy either way, stac-geoparquet's (Python)
tables through our writer and back through its reader, typed errors for
bad streams.

The items are real catalog items: rustac's 100 Sentinel-2 items in
``../shared/data/stac-items``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import stac_geoparquet.arrow as sgpa

import stac_gdal

ROOT = Path(__file__).resolve().parents[3]
S2 = ROOT.parent / "shared" / "data" / "stac-items" / "rustac-100-sentinel-2-items.parquet"


@pytest.fixture(scope="module")
def items():
    items = stac_gdal.from_geoparquet(S2)
    assert len(items) == 100
    return items


def _addresses(table: pa.Table) -> list[int]:
    """Addresses of every buffer of every column chunk (nested included)."""
    out = []
    for col in table.columns:
        for chunk in col.chunks:
            out.extend(b.address for b in chunk.buffers() if b is not None)
    return out


def test_from_geoparquet_arrow_is_read_by_pyarrow_without_a_copy(tmp_path, items):
    path = tmp_path / "s2.parquet"
    stac_gdal.to_geoparquet(items, path)
    t = stac_gdal.from_geoparquet(path, arrow=True)
    assert t.num_rows == len(t) == 100
    assert {"id", "geometry", "bbox", "assets", "datetime"} <= set(t.column_names)
    assert "geo" in t.metadata and "stac-geoparquet" in t.metadata
    before = pa.total_allocated_bytes()
    a = pa.table(t)
    b = pa.RecordBatchReader.from_stream(t).read_all()
    # pyarrow allocated nothing: the buffers are Rust's, and both imports
    # point at the same ones.
    assert pa.total_allocated_bytes() == before
    assert _addresses(a) == _addresses(b)
    assert len(_addresses(a)) > 50
    assert a.num_rows == 100
    assert a.schema.metadata[b"geo"]
    # The file's schema, as pyarrow reads the file itself.
    assert a.schema.remove_metadata() == pq.read_schema(path).remove_metadata()
    assert a.column("id").to_pylist() == [i["id"] for i in items]


def test_a_pyarrow_table_goes_through_rust_and_back_without_a_copy(items):
    theirs = sgpa.parse_stac_items_to_arrow(items).read_all()
    ours = stac_gdal.to_arrow(theirs)
    assert isinstance(ours, stac_gdal.ArrowTable)
    before = pa.total_allocated_bytes()
    back = pa.table(ours)
    assert pa.total_allocated_bytes() == before
    assert back.schema == theirs.schema
    # The same memory pyarrow allocated: imported and exported, not copied.
    assert _addresses(back) == _addresses(theirs)
    assert back.equals(theirs)


def test_stac_geoparquet_table_through_our_writer_and_their_reader(tmp_path, items):
    theirs = sgpa.parse_stac_items_to_arrow(items).read_all()
    expected = list(sgpa.stac_table_to_items(theirs))
    path = tmp_path / "theirs.parquet"
    assert stac_gdal.to_geoparquet(theirs, path) == 100
    # Their reader reads our file as it reads its own table...
    got = list(sgpa.stac_table_to_items(pq.read_table(path)))
    assert got == expected
    # ...and so do we (the same items as from the dicts they came from).
    assert stac_gdal.from_geoparquet(path) == stac_gdal.from_arrow(theirs)
    # A RecordBatchReader (a one-shot stream) works the same.
    path2 = tmp_path / "stream.parquet"
    assert stac_gdal.to_geoparquet(sgpa.parse_stac_items_to_arrow(items), path2) == 100
    assert list(sgpa.stac_table_to_items(pq.read_table(path2))) == expected


def test_to_arrow_round_trips_and_their_reader_reads_it(items):
    for layout in ("spec", "blob"):
        t = stac_gdal.to_arrow(items, layout=layout)
        assert stac_gdal.from_arrow(t) == items
        assert stac_gdal.from_arrow(pa.table(t)) == items
    t = pa.table(stac_gdal.to_arrow(items))
    assert t.schema.field("geometry").metadata[b"ARROW:extension:name"] == b"geoarrow.wkb"
    theirs = list(sgpa.stac_table_to_items(t))
    assert [i["id"] for i in theirs] == [i["id"] for i in items]
    assert theirs[0]["assets"].keys() == items[0]["assets"].keys()
    # Their reader spells the same instant with six digits.
    when = [datetime.fromisoformat(i["properties"]["datetime"]) for i in (theirs[0], items[0])]
    assert when[0] == when[1]
    # load() and the other item-taking functions accept a table too.
    assert stac_gdal.item_dicts(t) == items


class _Bad:
    """An object claiming the interface but returning something else."""

    def __init__(self, value):
        self.value = value

    def __arrow_c_stream__(self, requested_schema=None):
        return self.value


def test_invalid_streams_are_typed_errors_and_write_nothing(tmp_path, items):
    path = tmp_path / "out.parquet"
    for f in (stac_gdal.from_arrow, stac_gdal.ArrowTable.from_arrow):
        with pytest.raises(TypeError, match="__arrow_c_stream__"):
            f(42)
    with pytest.raises(stac_gdal.GeoParquetError, match="PyCapsule"):
        stac_gdal.to_geoparquet(_Bad("not a capsule"), path)
    # A capsule of another kind (a schema, not a stream).
    with pytest.raises(stac_gdal.GeoParquetError, match="arrow_array_stream"):
        stac_gdal.to_geoparquet(_Bad(pa.schema([("x", pa.int64())]).__arrow_c_schema__()), path)
    # A table that is not stac-geoparquet.
    with pytest.raises(stac_gdal.GeoParquetError) as e:
        stac_gdal.to_geoparquet(pa.table({"x": [1, 2]}), path)
    assert e.value.kind == "NotStacGeoParquet"
    # A producer that fails after its first batch: the error names it, and
    # no file (not even a partial one) appears.
    good = sgpa.parse_stac_items_to_arrow(items).read_all()

    def batches():
        yield good.to_batches()[0]
        raise RuntimeError("the producer broke")

    reader = pa.RecordBatchReader.from_batches(good.schema, batches())
    with pytest.raises(stac_gdal.GeoParquetError, match="the producer broke"):
        stac_gdal.to_geoparquet(reader, path)
    # Bad WKB: the row and column are named.
    geom = good.column("geometry").combine_chunks()
    broken = good.set_column(
        good.schema.get_field_index("geometry"),
        good.schema.field("geometry"),
        pa.array([b"\x01\x02\x03"] + geom.to_pylist()[1:], type=geom.type),
    )
    with pytest.raises(stac_gdal.GeoParquetError, match=r"row 0.*geometry") as e:
        stac_gdal.to_geoparquet(broken, path)
    assert e.value.kind == "InvalidRow"
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
