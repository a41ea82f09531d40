"""Round trips of stac-gdal's stac-geoparquet files through the peers.

Usage: python roundtrip.py DIR

For every DIR/NAME.parquet (written by stac-gdal), each peer reads it and
writes its own file back, which stac-gdal then reads:

- stac-geoparquet (Python): stac_table_to_items, then parse_stac_items_to_arrow
  + to_parquet  -> DIR/NAME.stac_geoparquet.parquet
- rustac: read_sync, then write_sync              -> DIR/NAME.rustac.parquet
- GeoPandas: read_parquet, then to_parquet        -> DIR/NAME.geopandas.parquet
- DuckDB (no extension): read_parquet, a bbox query on the covering
  columns, then COPY ... TO                        -> DIR/NAME.duckdb.parquet

Prints JSON: {NAME: {peer: {"items": [...]} | {"rows": n, ...} | {"error": "..."}}}.
"""

import json
import pathlib
import sys

import duckdb
import geopandas
import pyarrow.parquet as pq
import rustac
import stac_geoparquet.arrow as sga


def stac_geoparquet_peer(path, out):
    items = list(sga.stac_table_to_items(pq.read_table(path)))
    sga.to_parquet(sga.parse_stac_items_to_arrow(items), out)
    return {"items": items}


def rustac_peer(path, out):
    value = rustac.read_sync(str(path), set_self_link=False)
    items = value["features"] if isinstance(value, dict) else value
    rustac.write_sync(str(out), items)
    return {"items": items}


def geopandas_peer(path, out):
    gdf = geopandas.read_parquet(path)
    gdf.to_parquet(out)
    return {
        "rows": len(gdf),
        "crs": gdf.crs.to_string() if gdf.crs else None,
        "geom_types": sorted(set(gdf.geometry.geom_type.dropna())),
    }


def duckdb_peer(con, path, out):
    src = str(path).replace("'", "''")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{src}')").fetchone()[0]
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{src}')").fetchall()]
    # The covering columns answer a bbox query without any extension.
    hits = None
    if "bbox" in columns:
        hits = con.execute(
            f"SELECT count(*) FROM read_parquet('{src}') "
            "WHERE bbox.xmin <= 180 AND bbox.xmax >= -180 AND bbox.ymin <= 90 AND bbox.ymax >= -90"
        ).fetchone()[0]
    dst = str(out).replace("'", "''")
    con.execute(f"COPY (SELECT * FROM read_parquet('{src}')) TO '{dst}' (FORMAT parquet)")
    return {"rows": rows, "bbox_rows": hits}


def main():
    d = pathlib.Path(sys.argv[1])
    con = duckdb.connect()
    result = {}
    for path in sorted(d.glob("*.parquet")):
        name = path.name[: -len(".parquet")]
        if "." in name:
            continue  # a peer's output
        r = {}
        peers = [
            ("stac_geoparquet", lambda p, o: stac_geoparquet_peer(p, o)),
            ("rustac", lambda p, o: rustac_peer(p, o)),
            ("geopandas", lambda p, o: geopandas_peer(p, o)),
            ("duckdb", lambda p, o: duckdb_peer(con, p, o)),
        ]
        for peer, run in peers:
            out = d / f"{name}.{peer}.parquet"
            try:
                r[peer] = run(path, out)
            except Exception as e:  # reported, and checked by the caller
                r[peer] = {"error": f"{type(e).__name__}: {e}"}
        result[name] = r
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
