"""Read a stac-geoparquet file written by stac-gdal with pyarrow, geopandas,
stac-geoparquet and rustac, and print what each sees as JSON.

Usage: python check_our_file.py FILE.parquet
"""

import json
import sys

import geopandas
import pyarrow.parquet as pq
import rustac
import stac_geoparquet.arrow as sga


def main():
    path = sys.argv[1]
    table = pq.read_table(path)
    gdf = geopandas.read_parquet(path)
    sg_items = list(sga.stac_table_to_items(table))
    rc = rustac.read_sync(path)
    out = {
        "pyarrow": {"num_rows": table.num_rows, "columns": table.column_names,
                    "datetime_type": str(table.schema.field("datetime").type) if "datetime" in table.column_names else None},
        "geopandas": {"num_rows": len(gdf), "crs": gdf.crs.to_string() if gdf.crs else None,
                      "geom_types": sorted(set(gdf.geometry.geom_type)),
                      "bounds": [float(x) for x in gdf.total_bounds]},
        "stac_geoparquet": sg_items,
        "rustac": rc["features"] if isinstance(rc, dict) and "features" in rc else rc,
    }
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
