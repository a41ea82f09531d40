"""search and download_item against a local STAC API: a small HTTP server
on 127.0.0.1 (free port) that pages `/search` with `next` links and serves
the COG files with Range support."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

import stac_gdal


@pytest.fixture()
def api(data):
    items = data["stack"]
    files = {}
    for it in items:
        for a in it["assets"].values():
            files["/files/" + os.path.basename(a["href"])] = Path(a["href"])
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            u = urlparse(self.path)
            seen.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_port}"
            if u.path == "/":
                return self._json({"type": "Catalog", "id": "t", "description": "t",
                                   "stac_version": "1.0.0",
                                   "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                                                  "https://api.stacspec.org/v1.0.0/item-search"],
                                   "links": [{"rel": "search", "href": base + "/search",
                                              "method": "GET"}]})
            if u.path == "/conformance":
                return self._json({"conformsTo": ["https://api.stacspec.org/v1.0.0/item-search"]})
            if u.path == "/search":
                q = parse_qs(u.query)
                page = int(q.get("page", ["0"])[0])
                limit = 2
                feats = []
                for it in items[page * limit:(page + 1) * limit]:
                    it = json.loads(json.dumps(it))
                    for a in it["assets"].values():
                        a["href"] = base + "/files/" + os.path.basename(a["href"])
                    feats.append(it)
                links = []
                if (page + 1) * limit < len(items):
                    links.append({"rel": "next", "href": f"{base}/search?page={page + 1}"})
                return self._json({"type": "FeatureCollection", "features": feats, "links": links})
            if u.path in files:
                body = files[u.path].read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_error(404)

        def do_HEAD(self):
            self.send_error(405)

        def _json(self, doc):
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/geo+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}", items, seen
    srv.shutdown()
    srv.server_close()


def test_search_is_a_generator_over_pages(api):
    url, items, seen = api
    gen = stac_gdal.search(url, collections=["c"], max_items=10)
    first = next(gen)
    assert first["id"] == items[0]["id"]
    rest = list(gen)
    assert [i["id"] for i in [first, *rest]] == [i["id"] for i in items]
    assert any("page=1" in p for p in seen)
    assert [i["id"] for i in stac_gdal.search(url, max_items=3)] == [i["id"] for i in items[:3]]


def test_search_errors_are_typed(api):
    url, _, _ = api
    with pytest.raises(stac_gdal.ClientError):
        list(stac_gdal.search(url + "/missing/"))


def test_download_item_then_load_it(api, tmp_path):
    url, items, _ = api
    found = next(stac_gdal.search(url))
    local = stac_gdal.download_item(found, tmp_path / "out", include=["B02"])
    href = local["assets"]["B02"]["href"]
    path = href if os.path.isabs(href) else str(tmp_path / "out" / found["id"] / href)
    src = items[0]["assets"]["B02"]["href"]
    assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(
        Path(src).read_bytes()).digest()
    # The remote item and the local one load the same pixels.
    remote = stac_gdal.load([found], bands="B02")
    np.testing.assert_array_equal(remote.B02.values, stac_gdal.load(items[:1], bands="B02").B02.values)
