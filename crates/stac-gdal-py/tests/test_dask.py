"""Chunked loads on Dask: lazy until compute, one task per chunk through
the pickled plan, equal to the eager load on a distributed LocalCluster of
2 worker processes, also when a worker is killed mid-compute and Dask
retries its tasks elsewhere."""

from __future__ import annotations

import os
import signal
import time

import dask
import numpy as np
import pytest
import xarray as xr

import stac_gdal

BANDS = ["B02", "B05"]


def test_nothing_is_read_until_compute(data, tmp_path):
    # Items whose files are moved away after planning: building the lazy
    # Dataset must not read pixels (the grid comes from the metadata), and
    # compute must fail naming the missing file.
    import shutil

    items = []
    for it in data["stack"][:2]:
        it = {**it, "assets": {k: dict(a) for k, a in it["assets"].items()}}
        for a in it["assets"].values():
            dst = tmp_path / os.path.basename(a["href"])
            shutil.copy(a["href"], dst)
            a["href"] = str(dst)
        items.append(it)
    lazy = stac_gdal.load(items, bands=BANDS, resolution=10, chunks={"y": 64, "x": 64})
    assert isinstance(lazy.B02.data, dask.array.Array)
    for f in tmp_path.iterdir():
        f.unlink()
    with pytest.raises(stac_gdal.CubeError) as e:
        lazy.B02.compute(scheduler="synchronous")
    assert e.value.kind == "Read"
    assert "asset 'B02'" in str(e.value) and "No such file" in str(e.value)


def test_one_task_per_chunk_and_threaded_equals_eager(data):
    items = data["stack"]
    eager = stac_gdal.load(items, bands=BANDS, resolution=10)
    lazy = stac_gdal.load(items, bands=BANDS, resolution=10, chunks={"time": 2, "y": 50, "x": 128})
    arr = lazy.B02.data
    assert arr.chunks == ((2, 2), (50, 50, 28), (128,))
    # The chunk tasks of the band's layer (plus the shared plan key).
    layer = arr.dask.layers[arr.name]
    assert len(layer) == 2 * 3 * 1
    with dask.config.set(scheduler="threads", num_workers=2):
        got = lazy.compute()
    xr.testing.assert_identical(got, eager)


def test_the_plan_pickles_as_json(data):
    import pickle

    cube = stac_gdal.plan(data["mosaic"], BANDS, groupby="solar_day", resolution=10)
    back = pickle.loads(pickle.dumps(cube))
    assert back.spec_json() == cube.spec_json()
    a = cube.load_chunk(0, 2, [1], (10, 20, 30, 40))
    b = back.load_chunk(0, 2, [1], (10, 20, 30, 40))
    np.testing.assert_array_equal(a, b)
    whole, _ = cube.load()
    np.testing.assert_array_equal(a, whole[0:2, 1:2, 10:40, 20:60])


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as c, Client(c) as client:
        yield client


def test_local_cluster_equals_eager(data, cluster):
    items = data["mosaic"]
    eager = stac_gdal.load(items, bands=BANDS, groupby="solar_day", resolution=10)
    lazy = stac_gdal.load(items, bands=BANDS, groupby="solar_day", resolution=10,
                          chunks={"time": 1, "y": 40, "x": 64})
    from distributed import get_task_stream

    with get_task_stream(cluster) as stream:
        got = cluster.compute(lazy).result(timeout=120)
    xr.testing.assert_identical(got, eager)
    # Chunk tasks ran in both worker processes.
    workers = {t["worker"] for t in stream.data if "stac_gdal-load" in str(t["key"])}
    assert len(workers) == 2, workers


def test_a_worker_killed_mid_compute_gives_the_same_result(data, cluster):
    items = data["stack"]
    eager = stac_gdal.load(items, bands=BANDS, resolution=10)
    lazy = stac_gdal.load(items, bands=BANDS, resolution=10,
                          chunks={"time": 1, "y": 16, "x": 16})
    total = sum(len(v.data.dask.layers[v.data.name]) for v in lazy.data_vars.values())
    before = cluster.run(os.getpid)
    fut = cluster.compute(lazy)
    done = lambda: cluster.run_on_scheduler(
        lambda dask_scheduler: sum(
            1 for k, ts in dask_scheduler.tasks.items()
            if "stac_gdal-load" in str(k) and ts.state == "memory"
        )
    )
    deadline = time.monotonic() + 60
    while done() < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    finished_at_kill = done()
    victim_addr, victim_pid = sorted(before.items())[0]
    os.kill(victim_pid, signal.SIGKILL)
    got = fut.result(timeout=180)
    assert 10 <= finished_at_kill < total, (finished_at_kill, total)
    xr.testing.assert_identical(got, eager)
    # The killed process is gone; the nanny started another.
    after = cluster.run(os.getpid)
    assert victim_pid not in after.values()
