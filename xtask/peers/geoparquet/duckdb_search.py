"""DuckDB side of the search benchmark: the SQL rustac's search runs, on the
covering bbox columns and `datetime`, items written as NDJSON.

Usage: python duckdb_search.py SOURCE OUT.ndjson W S E N START END

SOURCE is a file or a glob (`folder/*.parquet`). No extension is loaded
(spatial is not needed: the bbox columns are plain doubles). Prints the
number of rows written and the seconds inside DuckDB as JSON.
"""

import json
import sys
import time

import duckdb


def main():
    src, out, w, s, e, n, start, end = sys.argv[1:9]
    t0 = time.perf_counter()
    con = duckdb.connect()
    src = src.replace("'", "''")
    out = out.replace("'", "''")
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{src}') "
        f"WHERE bbox.xmin <= {float(e)} AND bbox.xmax >= {float(w)} "
        f"AND bbox.ymin <= {float(n)} AND bbox.ymax >= {float(s)} "
        f"AND datetime >= TIMESTAMPTZ '{start}' AND datetime <= TIMESTAMPTZ '{end}') "
        f"TO '{out}' (FORMAT JSON)"
    )
    rows = sum(1 for _ in open(out))
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
