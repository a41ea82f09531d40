"""stac-geoparquet (Python) side of the GeoParquet benchmark.

Usage: python peer_stac_geoparquet.py write IN.ndjson OUT.parquet
       python peer_stac_geoparquet.py read IN.parquet OUT.ndjson

Prints the seconds spent in the operation itself (imports excluded) as JSON.
"""

import json
import sys
import time

import pyarrow.parquet as pq
import stac_geoparquet.arrow as sga


def main():
    op, src, dst = sys.argv[1:4]
    start = time.perf_counter()
    if op == "write":
        sga.parse_stac_ndjson_to_parquet(src, dst, compression="zstd", compression_level=3)
    else:
        table = pq.read_table(src)
        sga.stac_table_to_ndjson(table, dst)
    print(json.dumps({"seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
