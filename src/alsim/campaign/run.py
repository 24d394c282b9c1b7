"""Running a campaign: chunks of replicates as the unit of work, in-process or on Dask, resumable.

A chunk is ``simulate_trial(design, first_replicate=first, n_replicates=n)`` followed by the
batched analysis plan; its per-replicate results are written to ``DIR/chunks/`` atomically as
soon as it finishes. Replicate ``r`` draws everything from ``SeedSequence(seed, spawn_key=(r,))``
(imputations from ``(r, IMPUTATION_STREAM)``), so results do not depend on the chunk size, the
number of workers or the order chunks finish in.

``DIR/campaign.json`` holds the run's fingerprint (designs, plan, seed, replicates, chunk size,
truth size, model parameter values, alsim version): re-running the same command skips finished
chunks; a different campaign refuses to mix with them.

The "true" effect of each design point is the same analysis on one noise-free replicate (true
biomarker and function values, complete follow-up) of the design scaled to `truth_patients`
patients, drawn from replicate ``TRUTH_REPLICATE`` (a stream no campaign replicate uses). Under
the null (``effect=none``) the true effect is exactly the null value.
"""

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import alsim
from alsim.campaign.carriers import funnel_rows, funnel_table
from alsim.campaign.grid import CampaignError, DesignPoint, scale_patients
from alsim.campaign.plan import AnalysisPlan, run_plan
from alsim.campaign.safety import serious_event_rows, serious_event_table
from alsim.design.io import dump_design
from alsim.design.trial import TrialDesign
from alsim.io.output import write_parquet_atomic, write_text_atomic
from alsim.model.parameters import DEFAULT_PARAMETERS
from alsim.model.uncertainty import shipped_posterior
from alsim.simulate.trial import MAX_REPLICATES, simulate_trial

TRUTH_PATIENTS = 5_000
TRUTH_REPLICATE = 10**12
MAX_WORKERS = 256
FINGERPRINT_FILE = "campaign.json"
SCHEDULER_TIMEOUT = "10s"


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """Replicates ``first .. first + n - 1`` of design point `point`."""

    point: int
    first: int
    n: int

    @property
    def path(self) -> str:
        """Where the chunk's results live, relative to the campaign directory."""
        return f"chunks/point-{self.point:03d}/replicates-{self.first:07d}-{self.n:07d}.parquet"


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    """Design points x replicates, analysed by one plan."""

    points: tuple[DesignPoint, ...]
    plan: AnalysisPlan
    n_replicates: int
    seed: int
    chunk_replicates: int = 50
    truth_patients: int = TRUTH_PATIENTS
    uncertainty: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.n_replicates <= MAX_REPLICATES:
            raise CampaignError(
                f"--replicates must be 1..{MAX_REPLICATES}, got {self.n_replicates}"
            )
        if not 1 <= self.chunk_replicates <= MAX_REPLICATES:
            raise CampaignError(
                f"--chunk must be 1..{MAX_REPLICATES} replicates, got {self.chunk_replicates}"
            )
        if self.seed < 0:
            raise CampaignError(f"--seed must be >= 0, got {self.seed}")
        if self.truth_patients < 2:
            raise CampaignError(f"--truth-patients must be >= 2, got {self.truth_patients}")
        if not self.points:
            raise CampaignError("a campaign needs at least one design point")

    def chunks(self) -> tuple[Chunk, ...]:
        """Every chunk of every design point, point by point."""
        return tuple(
            Chunk(
                point=p.index, first=first, n=min(self.chunk_replicates, self.n_replicates - first)
            )
            for p in self.points
            for first in range(0, self.n_replicates, self.chunk_replicates)
        )

    def fingerprint(self) -> dict[str, Any]:
        """What must match for chunks on disk to belong to this campaign."""
        document: dict[str, Any] = {
            "alsim_version": alsim.__version__,
            "seed": self.seed,
            "n_replicates": self.n_replicates,
            "chunk_replicates": self.chunk_replicates,
            "truth_patients": self.truth_patients,
            "grid": [p.label for p in self.points],
            "designs": [dump_design(p.design) for p in self.points],
            "plan": [a.model_dump(mode="json") for a in self.plan],
            "parameters": DEFAULT_PARAMETERS.to_dict(),
        }
        if self.uncertainty:
            document["uncertainty"] = shipped_posterior().fingerprint
        canonical = json.dumps(document, sort_keys=True)
        document["sha256"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return document


def simulate_chunk(
    design: TrialDesign,
    plan: AnalysisPlan,
    seed: int,
    first: int,
    n: int,
    parameters: str = "typical",
) -> pd.DataFrame:
    """Simulate replicates ``first .. first + n - 1`` and run the plan on them (a unit of work);
    ``parameters="posterior"`` takes each replicate's own draw of the shipped calibration's
    posterior (`alsim.model.uncertainty`)."""
    sim = simulate_trial(
        design,
        n_replicates=n,
        seed=seed,
        first_replicate=first,
        parameters=DEFAULT_PARAMETERS,
        uncertainty=shipped_posterior() if parameters == "posterior" else None,
    )
    return pd.concat(
        [run_plan(sim, plan), serious_event_rows(sim), funnel_rows(sim)], ignore_index=True
    )


def true_effects(
    point: DesignPoint, plan: AnalysisPlan, seed: int, n_patients: int
) -> pd.DataFrame:
    """The true value of each analysis' estimand at `point`: one row per analysis with
    ``true_value`` and ``true_value_se`` (the sampling SE of the large noise-free run; 0 when
    exact).

    The noise-free values follow every patient to the end (the model's course continues after
    death or discontinuation) and each analysis' strategies decide what its estimand uses. A
    hypothetical strategy for discontinuation ("had treatment continued") is evaluated on a run
    in which nobody discontinues; the others on the run as simulated, where treatment stops.
    """
    rows = []
    if point.is_null or point.parameters != "typical":
        # over the posterior there is no single true effect: bias and coverage are blank
        for analysis in plan:
            value = analysis.null_value if point.is_null else float("nan")
            se = 0.0 if point.is_null else float("nan")
            rows.append({"analysis": analysis.name, "true_value": value, "true_value_se": se})
        return pd.DataFrame(rows)
    design = scale_patients(point.design, n_patients)
    # a test statistic has no true value off the null: it is not fitted (the joint rank test on
    # thousands of patients took a third of this function's time, for a NaN)
    sized = tuple(a for a in plan if a.has_effect_size)
    fitted: dict[str, Any] = {}
    for continued in (True, False):
        chosen = tuple(
            a
            for a in sized
            if (a.discontinuation_handling().strategy == "hypothetical") == continued
        )
        if not chosen:
            continue
        sim = simulate_trial(
            design,
            n_replicates=1,
            seed=seed,
            first_replicate=TRUTH_REPLICATE,
            discontinuation=not continued,
        )
        frame = run_plan(sim, chosen, noise_free=True)
        fitted.update({str(r.analysis): r for r in frame.itertuples(index=False)})
    nan = float("nan")
    for analysis in plan:
        row = fitted.get(analysis.name)
        value = se = nan
        if row is not None and row.status == "ok":
            value = float(row.estimate)
            se = float(row.std_error_log if analysis.log_scale else row.std_error)
        rows.append({"analysis": analysis.name, "true_value": value, "true_value_se": se})
    return pd.DataFrame(rows)


def truth_path(point: int) -> str:
    """Where a design point's true effects live, relative to the campaign directory."""
    return f"truth/point-{point:03d}.parquet"


def prepare_directory(campaign: Campaign, out: Path) -> None:
    """Create `out` with the fingerprint, or check that it holds this campaign's chunks."""
    fingerprint = campaign.fingerprint()
    marker = out / FINGERPRINT_FILE
    if out.exists() and not out.is_dir():
        raise CampaignError(f"--out {out} exists and is not a directory")
    if marker.exists():
        old = json.loads(marker.read_text(encoding="utf-8"))
        if old.get("sha256") != fingerprint["sha256"]:
            differ = [k for k in fingerprint if k != "sha256" and old.get(k) != fingerprint[k]]
            raise CampaignError(
                f"--out {out} holds a different campaign (differs in: "
                f"{', '.join(differ) or 'fingerprint'}); use another --out, or delete {out} "
                f"to start again"
            )
        return
    if out.is_dir() and any(out.iterdir()):
        raise CampaignError(
            f"--out {out} is not empty and has no {FINGERPRINT_FILE}; choose an empty or new "
            f"directory"
        )
    write_text_atomic(json.dumps(fingerprint, indent=2) + "\n", marker)


@dataclass(frozen=True, slots=True)
class _Task:
    path: str
    function: Callable[..., pd.DataFrame]
    args: tuple[Any, ...]
    n_replicates: int


def pending_tasks(campaign: Campaign, out: Path) -> list[_Task]:
    """Truths, then chunks, not yet on disk."""
    points = {p.index: p for p in campaign.points}
    tasks = [
        _Task(
            truth_path(p.index),
            true_effects,
            (p, campaign.plan, campaign.seed, campaign.truth_patients),
            0,
        )
        for p in campaign.points
    ]
    tasks += [
        _Task(
            c.path,
            simulate_chunk,
            (
                points[c.point].design,
                campaign.plan,
                campaign.seed,
                c.first,
                c.n,
                "posterior" if campaign.uncertainty else points[c.point].parameters,
            ),
            c.n,
        )
        for c in campaign.chunks()
    ]
    return [t for t in tasks if not (out / t.path).exists()]


def check_workers(workers: int, scheduler: str | None) -> None:
    """Refuse a bad worker count or scheduler address before any work starts."""
    if not 1 <= workers <= MAX_WORKERS:
        raise CampaignError(f"--workers must be 1..{MAX_WORKERS}, got {workers}")
    if scheduler is not None:
        if workers != 1:
            raise CampaignError("give either --workers (a local cluster) or --scheduler, not both")
        if "://" not in scheduler:
            raise CampaignError(
                f"--scheduler must be a Dask scheduler address like tcp://HOST:8786, got "
                f"{scheduler!r}"
            )


PRE_SPAWN_ENVIRON = "distributed.nanny.pre-spawn-environ"


def _worker_environ() -> dict[str, Any]:
    """Dask's environment for local worker processes, less ``MALLOC_TRIM_THRESHOLD_``.

    Setting that variable turns off glibc's adaptive mmap threshold: every array over 128 KiB
    became a fresh mapping whose pages faulted in again, and a quarter of each worker's time went
    to the kernel (a process running chunks in-process never had it). One thread per worker for
    OpenMP and BLAS is kept.
    """
    from dask import config

    environ: dict[str, Any] = dict(config.get(PRE_SPAWN_ENVIRON, default={}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environ


@contextmanager
def _dask_client(
    workers: int, scheduler: str | None, *, close_in_background: bool = False
) -> Iterator[Any]:
    """A client of the scheduler at `scheduler`, or of a new local cluster of `workers`.

    With `close_in_background`, a local cluster that was used without error shuts down in a
    thread once the block ends: its worker processes take a second or more to exit (interpreter
    teardown), which then overlaps with what the caller does next. The thread is not a daemon:
    the interpreter waits for it before exiting.
    """
    from dask import config
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise CampaignError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with config.set({PRE_SPAWN_ENVIRON: _worker_environ()}):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never warns that 8787 is taken
        )
        try:
            with Client(cluster) as client:  # type: ignore[no-untyped-call]
                yield client
        except BaseException:
            cluster.close()
            raise
    if close_in_background:
        threading.Thread(target=cluster.close, name="alsim-cluster-close").start()
    else:
        cluster.close()


def execute(
    tasks: list[_Task],
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[int], None] | None = None,
) -> None:
    """Run `tasks`, writing each result atomically to ``out / task.path`` as soon as it is done.

    With one worker and no scheduler the tasks run in this process; otherwise on a Dask
    `LocalCluster` of `workers` single-threaded processes, or on the cluster at `scheduler`.
    A local cluster shuts down in a background thread after the last result is written, so
    this returns before its worker processes have exited.
    """
    check_workers(workers, scheduler)
    if not tasks:
        return
    if workers == 1 and scheduler is None:
        for task in tasks:
            write_parquet_atomic(task.function(*task.args), out / task.path)
            if on_done is not None:
                on_done(task.n_replicates)
        return
    from dask.distributed import as_completed

    # a local cluster shuts down while the caller summarises (every result is on disk by then)
    with _dask_client(workers, scheduler, close_in_background=True) as client:
        futures = {client.submit(task.function, *task.args, pure=False): task for task in tasks}
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            task = futures[future]
            write_parquet_atomic(future.result(), out / task.path)
            future.release()
            if on_done is not None:
                on_done(task.n_replicates)


def load_results(campaign: Campaign, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All per-replicate results and true effects on disk, with the point index and label."""
    labels = {p.index: p.label for p in campaign.points}
    frames = []
    for chunk in campaign.chunks():
        frame = pd.read_parquet(out / chunk.path)
        frame.insert(0, "point", chunk.point)
        frames.append(frame)
    results = pd.concat(frames, ignore_index=True)
    # one canonical order, whatever the chunk size: point, analysis (plan order), replicate
    order = {a.name: i for i, a in enumerate(campaign.plan)}
    results = results.sort_values(
        ["point", "analysis", "replicate"],
        key=lambda c: c.map(order) if c.name == "analysis" else c,
        kind="stable",
    ).reset_index(drop=True)
    results.insert(1, "label", results["point"].map(labels))
    truths = []
    for p in campaign.points:
        frame = pd.read_parquet(out / truth_path(p.index))
        frame.insert(0, "point", p.index)
        truths.append(frame)
    return results, pd.concat(truths, ignore_index=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignResult:
    """Per-replicate results, true effects, the operating-characteristics summary, the
    chance of seeing serious neurological events (`alsim.campaign.safety`) and, for run-in
    designs, the trial metrics of `alsim.campaign.carriers` (empty otherwise)."""

    results: pd.DataFrame
    truths: pd.DataFrame
    summary: pd.DataFrame
    safety: pd.DataFrame
    funnel: pd.DataFrame = field(default_factory=pd.DataFrame)


def run_campaign(
    campaign: Campaign,
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_done: Callable[[int], None] | None = None,
) -> CampaignResult:
    """Run (or resume) `campaign` in `out` and write its result files.

    ``on_start(total_replicates, already_done)`` is called once before work starts and
    ``on_done(n_replicates)`` after every task (for progress bars). Writes, besides the chunks:
    ``points/point-NNN.parquet`` (every replicate of a design point), ``summary.parquet`` and
    ``summary.csv`` (see `alsim.campaign.summary`), ``safety.parquet`` and ``safety.csv`` (see
    `alsim.campaign.safety`).
    """
    from alsim.campaign.summary import operating_characteristics

    check_workers(workers, scheduler)
    out = Path(out)
    prepare_directory(campaign, out)
    tasks = pending_tasks(campaign, out)
    total = campaign.n_replicates * len(campaign.points)
    if on_start is not None:
        on_start(total, total - sum(t.n_replicates for t in tasks))
    execute(tasks, out, workers=workers, scheduler=scheduler, on_done=on_done)
    results, truths = load_results(campaign, out)
    summary = operating_characteristics(results, truths, campaign.points, campaign.plan)
    for point in campaign.points:
        frame = results[results["point"] == point.index].reset_index(drop=True)
        write_parquet_atomic(frame, out / f"points/point-{point.index:03d}.parquet")
    write_parquet_atomic(summary, out / "summary.parquet")
    write_text_atomic(summary.to_csv(index=False), out / "summary.csv")
    safety = serious_event_table(results, campaign.points)
    write_parquet_atomic(safety, out / "safety.parquet")
    write_text_atomic(safety.to_csv(index=False), out / "safety.csv")
    funnel = funnel_table(results, campaign.points)
    if not funnel.empty:
        write_text_atomic(funnel.to_csv(index=False), out / "funnel.csv")
    return CampaignResult(
        results=results, truths=truths, summary=summary, safety=safety, funnel=funnel
    )
