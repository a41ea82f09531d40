"""Crawl a STAC API search to the end with a peer client; print {"items": N, "seconds": T}.

usage: crawl.py <pystac-client|rustac|raw> <URL> <COLLECTION> <LIMIT>

- pystac-client: Client.open(url).search(collections=[c], limit=L).items() (POST, follows next)
- rustac: rustac.search_sync(url, collections=[c], limit=L) (POST, follows next)
- raw: http.client keep-alive POST /search, json.loads each page, follow the next link's
  body; no item objects — the floor a client can reach, i.e. the server's own time.
"""
import http.client
import json
import sys
import time
from urllib.parse import urlsplit


def raw(url, collection, limit):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    body = {"collections": [collection], "limit": limit}
    path = parts.path.rstrip("/") + "/search"
    n = 0
    while True:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        page = json.loads(resp.read())
        feats = page.get("features", [])
        if not feats:
            break
        n += len(feats)
        nxt = next((l for l in page.get("links", []) if l.get("rel") == "next"), None)
        if nxt is None:
            break
        nb = nxt.get("body") or {}
        body = {**body, **nb} if nxt.get("merge") else (nb or body)
        path = urlsplit(nxt["href"]).path
    return n


def main():
    tool, url, collection, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if tool == "pystac-client":
        from pystac_client import Client

        client = Client.open(url)
        start = time.perf_counter()
        n = sum(1 for _ in client.search(collections=[collection], limit=limit).items_as_dicts())
    elif tool == "rustac":
        import rustac

        start = time.perf_counter()
        n = len(rustac.search_sync(url, collections=[collection], limit=limit))
    elif tool == "raw":
        start = time.perf_counter()
        n = raw(url, collection, limit)
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(json.dumps({"items": n, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
