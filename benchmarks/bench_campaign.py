"""Trial replicates per second with the full protocol analysis plan; Dask scaling 1 -> 2 workers.

1. In-process: VALOR + open-label extension to week 156 (`designs/valor_ole.yaml`, the target's
   design) and cut at week 52 (`set_duration(valor_ole, 52)`), simulated and analysed with
   `default_plan` (joint rank + MI, ANCOVA + MI x3, GMR x2, Cox), timed per stage; the projected
   time for 10,000 replicates is printed beside the 60 s target.
2. Scaling: the same chunks on a Dask LocalCluster of 1 and then 2 single-threaded worker
   processes (a job of >= 30 s on one worker); parallel efficiency = T1 / (2 T2), with and
   without the cluster start-up, and a check that both runs give identical results.

`python -m benchmarks campaign` runs this file only.
"""

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from alsim.campaign import (
    Campaign,
    DesignPoint,
    default_plan,
    run_plan,
    set_duration,
    simulate_chunk,
)
from alsim.campaign.plan import fit_analysis
from alsim.campaign.run import _dask_client, pending_tasks
from alsim.design import load_template
from alsim.simulate import simulate_trial

TARGET_REPLICATES = 10_000
TARGET_SECONDS = 60.0


def valor_ole_52() -> DesignPoint:
    return DesignPoint(index=0, settings=(), design=set_duration(load_template("ole"), 52))


def valor_ole_156() -> DesignPoint:
    return DesignPoint(index=0, settings=(), design=load_template("ole"))


def throughput(n_replicates: int = 100, point: DesignPoint | None = None) -> float:
    point = valor_ole_52() if point is None else point
    plan = default_plan(point.design)
    # warm-up at full size: a first call of this size in a process costs up to 1 s more
    simulate_trial(point.design, n_replicates=n_replicates, seed=0)
    start = time.perf_counter()
    sim = simulate_trial(point.design, n_replicates=n_replicates, seed=1)
    simulate_s = time.perf_counter() - start
    stage = {}
    for analysis in plan:
        t = time.perf_counter()
        fit_analysis(sim, analysis, sim.observed)
        stage[analysis.name] = time.perf_counter() - t
    analyse_s = sum(stage.values())
    total = simulate_s + analyse_s
    rate = n_replicates / total
    weeks = round((point.design.visits[-1].day - 1) / 7)
    print(
        f"VALOR + extension to week {weeks} ({point.design.n_patients} patients, "
        f"{len(point.design.visits)} visits, {len(plan)} analyses), {n_replicates} replicates:"
    )
    print(f"  simulate: {1000 * simulate_s / n_replicates:7.1f} ms/replicate")
    for name, seconds in stage.items():
        print(f"  {name:28s}: {1000 * seconds / n_replicates:7.1f} ms/replicate")
    print(f"  total: {rate:.2f} replicates/s on one core")
    cores = os.cpu_count() or 1
    projected = TARGET_REPLICATES / rate / min(cores, 2)
    print(
        f"  projected {TARGET_REPLICATES:,} replicates on {min(cores, 2)} cores: "
        f"{projected:,.0f} s "
        f"(target {TARGET_SECONDS:.0f} s: {projected / TARGET_SECONDS:.1f}x over)"
    )
    # replicates in one batch give the same per-replicate results as one by one
    single = run_plan(simulate_trial(point.design, n_replicates=1, seed=1, first_replicate=3), plan)
    batch = run_plan(sim, plan)
    same = batch[batch["replicate"] == 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, single, check_exact=True)
    print("  replicate 3 alone == replicate 3 in the batch: OK")
    return rate


def _results(campaign: Campaign, out: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(out / c.path) for c in campaign.chunks()], ignore_index=True)


def scaling(rate: float, min_seconds: float = 30.0) -> None:
    point = valor_ole_52()
    chunk = 8
    n = int(np.ceil(1.2 * min_seconds * rate / (2 * chunk))) * 2 * chunk
    campaign = Campaign(
        points=(point,),
        plan=default_plan(point.design),
        n_replicates=n,
        seed=7,
        chunk_replicates=chunk,
    )
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            out = Path(tmp) / f"w{workers}"
            out.mkdir()
            times[workers] = _dask_timed(campaign, out, workers)
        one, two = _results(campaign, Path(tmp) / "w1"), _results(campaign, Path(tmp) / "w2")
    same = one.equals(two)
    if not same:
        for column in one.columns:
            if not one[column].equals(two[column]):
                differ = (one[column] != two[column]) & ~(one[column].isna() & two[column].isna())
                print(f"  {column} differs:")
                print(pd.concat([one.loc[differ, column], two.loc[differ, column]], axis=1))
                print(one.loc[differ, ["analysis", "replicate"]])
    (t1, s1), (t2, s2) = times[1], times[2]
    print(f"Dask LocalCluster, {n} replicates in chunks of {chunk}:")
    print(f"  1 worker : {t1:6.1f} s (cluster start-up {s1:.1f} s)")
    print(f"  2 workers: {t2:6.1f} s (cluster start-up {s2:.1f} s)")
    print(f"  speed-up {t1 / t2:.2f}x; parallel efficiency {t1 / (2 * t2):.0%} ")
    print(
        f"  without start-up: speed-up {(t1 - s1) / (t2 - s2):.2f}x; "
        f"efficiency {(t1 - s1) / (2 * (t2 - s2)):.0%} (target >= 80%)"
    )
    print(f"  identical results for 1 and 2 workers: {'OK' if same else 'FAIL'}")


def timed_chunk(*args: object) -> tuple[pd.DataFrame, float, float]:
    """`simulate_chunk` with its wall and CPU seconds (CPU < wall: the worker waited for a core)."""
    wall, cpu = time.perf_counter(), time.process_time()
    frame = simulate_chunk(*args)  # type: ignore[arg-type]
    return frame, time.perf_counter() - wall, time.process_time() - cpu


def _dask_timed(campaign: Campaign, out: Path, workers: int) -> tuple[float, float]:
    tasks = [t for t in pending_tasks(campaign, out) if t.path.startswith("chunks/")]
    start = time.perf_counter()
    wall = cpu = 0.0
    with _dask_client(workers, None) as client:
        started = time.perf_counter() - start
        from dask.distributed import as_completed

        from alsim.io.output import write_parquet_atomic

        futures = {client.submit(timed_chunk, *t.args, pure=False): t for t in tasks}
        for future in as_completed(futures):
            frame, task_wall, task_cpu = future.result()
            wall, cpu = wall + task_wall, cpu + task_cpu
            write_parquet_atomic(frame, out / futures[future].path)
    print(
        f"  {workers} worker(s): tasks got {cpu / wall:.0%} of a core while running "
        f"(below 100%: other processes shared the cores)"
    )
    return time.perf_counter() - start, started


def main() -> None:
    throughput(point=valor_ole_156())
    rate = throughput()
    scaling(rate)


if __name__ == "__main__":
    main()
