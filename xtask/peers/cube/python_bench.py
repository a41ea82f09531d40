"""stac_gdal (Python) against odc-stac, in one Python process, on the cube
benchmark's data (generate.py): eager, chunked on Dask's threaded scheduler,
and chunked on a LocalCluster of worker processes.

Usage: python python_bench.py DATA_DIR THREADS
(STAC_GDAL_BENCH_RUNS=N for N runs instead of 5, e.g. 1 for a smoke test;
STAC_GDAL_BENCH_CASES=stack,mosaic and STAC_GDAL_BENCH_MODES=eager,threads,
cluster,cluster-nothp pick cases and modes, all by default;
STAC_GDAL_BENCH_TRIM=0 skips the settling before each run described below.)

For each case (stack, mosaic) and mode, each tool loads B02, B03, B05 as a
uint16 cube (fill 0) on the 10 m grid, grouped by solar day for the mosaic;
the same chunks for both tools. Times are taken around the load (plan +
load + compute; imports, item parsing and cluster start excluded), best of
RUNS, tools alternated; before each run, garbage is collected and glibc's
freed memory handed back to the system (`malloc_trim(0)`) in this process
and the workers, so every run starts from the same state. A chunked load is timed twice in one run: when it
is persisted (every chunk loaded and held, by the threads of this process
or on the workers: the load itself) and when it is computed (the chunks
assembled into one NumPy array per band by Dask, after the gather to this
process on the cluster: work Dask does alike for both tools). Peak memory
is sampled every 5 ms while a load runs: the RSS of this process plus, on
the cluster, its workers, above what it was before the load (the lower of
the runs: the first also imports); for a chunked load it is also read when
the persist ends (the load's own memory: every chunk held, nothing gathered
yet). CPU time is user + system of the same
processes over the load (the lower of the runs), which a shared machine
distorts less than wall time. Checksums (per-band sums) must agree.

`cluster-nothp` is `cluster` on a second LocalCluster whose processes (the
workers, and this one during the run) do not ask for transparent huge pages
for NumPy's large buffers (`NUMPY_MADVISE_HUGEPAGE=0`, NumPy's own switch;
both tools alike). It is not the target cell: it isolates what the gather
to the client costs on a virtual machine whose host reclaims free guest
memory, where every fresh 2 MiB page that NumPy (Dask's receive buffers,
its per-band concatenation) madvises as huge also faults in the host.
Prints JSON.
"""

import json
import os
import sys
import threading
import time

import numpy as np

BANDS = ["B02", "B03", "B05"]
RUNS = int(os.environ.get("STAC_GDAL_BENCH_RUNS", "5"))
CASES = os.environ.get("STAC_GDAL_BENCH_CASES", "stack,mosaic").split(",")
MODES = os.environ.get("STAC_GDAL_BENCH_MODES", "eager,threads,cluster,cluster-nothp").split(",")
CLUSTER_MODES = ("cluster", "cluster-nothp")
PAGE = os.sysconf("SC_PAGE_SIZE")


TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    """User + system CPU seconds of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


def rss(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


class Peak:
    """Peak summed RSS of `pids` above the level at start, sampled."""

    def __init__(self, pids):
        self.pids = pids
        self.base = sum(rss(p) for p in pids)
        self.peak = self.base
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, sum(rss(p) for p in self.pids))
            time.sleep(0.005)

    def so_far(self):
        """Peak MiB above the start level up to now (the sampler goes on)."""
        return (max(self.peak, sum(rss(p) for p in self.pids)) - self.base) / 2**20

    def done(self):
        self.stop.set()
        self.t.join()
        return (self.peak - self.base) / 2**20


def numpy_huge_pages(on):
    """Set whether NumPy madvises its large buffers as huge pages in this
    process (what `NUMPY_MADVISE_HUGEPAGE` sets at import); returns the
    previous setting."""
    import numpy

    core = getattr(numpy, "_core", None) or numpy.core
    return core.multiarray._set_madvise_hugepage(on)


def start_cluster(threads, mode):
    """A LocalCluster of `threads` one-thread worker processes; for
    `cluster-nothp`, workers started with `NUMPY_MADVISE_HUGEPAGE=0`."""
    import dask
    from distributed import LocalCluster

    env = {"distributed.nanny.pre-spawn-environ.NUMPY_MADVISE_HUGEPAGE": "0"} \
        if mode == "cluster-nothp" else {}
    with dask.config.set(env):
        cluster = LocalCluster(n_workers=threads, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, silence_logs=40)
    # The nanny also sets its variables in this process before spawning:
    # keep them out of any process started later.
    os.environ.pop("NUMPY_MADVISE_HUGEPAGE", None)
    return cluster


def trim():
    """`gc.collect()` and `malloc_trim(0)` in this process."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def settle(cluster):
    """Collect garbage and hand the free memory glibc's allocator keeps back
    to the system (`malloc_trim(0)`), so that every run starts from the same
    state: otherwise a run reuses memory an earlier run (of either tool) freed
    but the process kept, and its peak above the start level is lower by an
    amount that depends on the order of the runs, not on the load. On a
    cluster, its workers too (Dask's own advice for freed worker memory)."""
    if os.environ.get("STAC_GDAL_BENCH_TRIM", "1") != "1":
        return
    trim()
    if cluster is not None:
        from distributed import Client

        with Client(cluster) as client:
            client.run(trim)


def sums(ds):
    return [int(ds[b].values.sum(dtype=np.uint64)) for b in BANDS]


def main():
    data, threads = sys.argv[1], int(sys.argv[2])
    import dask
    import odc.stac
    import pystac
    from distributed import Client, wait

    import stac_gdal

    out = {"threads": threads, "cases": {}}
    clusters, worker_pids = {}, {}
    for mode in CLUSTER_MODES:
        if mode in MODES:
            clusters[mode] = start_cluster(threads, mode)
            client = Client(clusters[mode])
            worker_pids[mode] = list(client.run(os.getpid).values())
            client.close()
    for case in CASES:
        with open(os.path.join(data, f"{case}.json")) as f:
            dicts = json.load(f)["features"]
        items = [pystac.Item.from_dict(d) for d in dicts]
        groupby = "solar_day" if case == "mosaic" else None
        kw = dict(bands=BANDS, resolution=10, dtype="uint16", nodata=0)
        chunks = {"time": 1, "y": 2048, "x": 2048}

        def build(name, mode):
            """The Dataset: loaded for eager, lazy (Dask) otherwise."""
            if name == "stac_gdal":
                if mode == "eager":
                    return stac_gdal.load(dicts, groupby=groupby, pool=threads, **kw)
                return stac_gdal.load(dicts, groupby=groupby, chunks=chunks, **kw)
            g = groupby or "time"
            if mode == "eager":
                return odc.stac.load(items, groupby=g, chunks=None, pool=threads, **kw)
            return odc.stac.load(items, groupby=g, chunks=chunks, **kw)

        def run(name, mode, pids, peak):
            """(ds, seconds, cpu, persist seconds, persist cpu, persist
            peak MiB; `peak` samples the run's memory): a chunked
            load is persisted first (every chunk loaded and held: by the
            threads in this process, or on the workers), then computed
            (the chunks assembled into one array per band, after a gather
            to this process on the cluster)."""
            client = Client(clusters[mode]) if mode in clusters else None
            huge = numpy_huge_pages(False) if mode == "cluster-nothp" else None
            try:
                c0 = sum(cpu(p) for p in pids)
                t0 = time.perf_counter()
                ds = build(name, mode)
                if mode == "eager":
                    secs, cpu_s = time.perf_counter() - t0, sum(cpu(p) for p in pids) - c0
                    return ds, secs, cpu_s, None, None, None
                cfg = {"scheduler": "threads", "num_workers": threads} if mode == "threads" else {}
                with dask.config.set(cfg):
                    p = ds.persist()
                    if client is not None:
                        wait(p)
                    psecs, pcpu = time.perf_counter() - t0, sum(cpu(q) for q in pids) - c0
                    pmib = peak.so_far()
                    ds = p.compute()
                    del p
                secs, cpu_s = time.perf_counter() - t0, sum(cpu(q) for q in pids) - c0
                return ds, secs, cpu_s, psecs, pcpu, pmib
            finally:
                if huge is not None:
                    numpy_huge_pages(huge)
                if client is not None:
                    client.close()

        res = {}
        for mode in MODES:
            best = {}
            for r in range(RUNS):
                for name in ("stac_gdal", "odc-stac")[:: 1 if r % 2 == 0 else -1]:
                    pids = [os.getpid()] + worker_pids.get(mode, [])
                    settle(clusters.get(mode))
                    peak = Peak(pids)
                    ds, secs, cpu_s, psecs, pcpu, pmib = run(name, mode, pids, peak)
                    mib = peak.done()
                    s = sums(ds)
                    shape = [ds.sizes["time"], ds.sizes["y"], ds.sizes["x"]]
                    del ds
                    b = best.setdefault(name, {"seconds": secs, "peak_mib": mib, "sums": s,
                                               "shape": shape, "cpu_seconds": cpu_s,
                                               "persist_seconds": psecs, "persist_cpu_seconds": pcpu,
                                               "persist_peak_mib": pmib})
                    b["seconds"] = min(b["seconds"], secs)
                    b["cpu_seconds"] = min(b["cpu_seconds"], cpu_s)
                    if psecs is not None:
                        b["persist_seconds"] = min(b["persist_seconds"], psecs)
                        b["persist_cpu_seconds"] = min(b["persist_cpu_seconds"], pcpu)
                        b["persist_peak_mib"] = min(b["persist_peak_mib"], pmib)
                    # The first run of a mode also imports and warms
                    # (workers load stac_gdal / odc on first use): the
                    # lower of the runs is the load's own.
                    b["peak_mib"] = min(b["peak_mib"], mib)
            best["same"] = best["stac_gdal"]["sums"] == best["odc-stac"]["sums"] and \
                best["stac_gdal"]["shape"] == best["odc-stac"]["shape"]
            res[mode] = best
            print(case, mode, json.dumps({k: (v if k == "same" else
                                               {"s": round(v["seconds"], 2), "cpu": round(v["cpu_seconds"], 2),
                                                "persist_s": v["persist_seconds"] and round(v["persist_seconds"], 2),
                                                "mib": round(v["peak_mib"])})
                                           for k, v in best.items()}), file=sys.stderr, flush=True)
        out["cases"][case] = res
    for cluster in clusters.values():
        cluster.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
