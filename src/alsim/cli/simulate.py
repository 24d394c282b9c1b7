"""`alsim simulate DESIGN.yaml --replicates R --seed S --out DIR`: ADaM-like tables of R trials."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alsim.cli._common import OVERWRITE_HELP, console, replicate_progress, user_errors

if TYPE_CHECKING:
    from alsim.design import TrialDesign
    from alsim.io.stream import TableStream
    from alsim.model.parameters import ParameterSet
    from alsim.simulate.trial import TrialSimulation

# replicates are simulated and written in chunks of about this many patients, so memory does
# not grow with the number of replicates (about 0.1 MB per patient while a chunk is built)
CHUNK_PATIENTS = 5_000
DEFAULT_FORMATS = "parquet,csv,xpt"
BDS_REPORT_COLUMNS = (
    "REPLICATE", "TRT01P", "PARAMCD", "AVISIT", "AVISITN", "ADY", "AVAL", "BASE",
)  # fmt: skip


def simulate(
    design_file: Annotated[Path, typer.Argument(help="Trial design YAML (see designs/).")],
    replicates: Annotated[int, typer.Option("--replicates", "-r", help="Trial replicates.")] = 1,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (>= 0).")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("out/sim"),
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    formats: Annotated[
        str,
        typer.Option("--formats", help="ADaM table formats, comma-separated: parquet, csv, xpt."),
    ] = DEFAULT_FORMATS,
    uncertainty: Annotated[
        bool,
        typer.Option(
            "--uncertainty", help="Each replicate draws its parameters from the posterior."
        ),
    ] = False,
) -> None:
    """Simulate a design; write ADaM tables (Parquet, CSV, XPT), NONMEM data, report, manifest."""
    with user_errors():
        _run(design_file, replicates, seed, out, overwrite, formats, uncertainty)


def _run(
    design_file: Path,
    replicates: int,
    seed: int,
    out: Path,
    overwrite: bool,
    formats: str,
    uncertainty: bool = False,
) -> None:
    import time
    from concurrent.futures import Future, ThreadPoolExecutor

    from alsim.design import dump_design, load_design
    from alsim.errors import AlsimError
    from alsim.io import atomic_output_dir, check_output_dir, write_json
    from alsim.io.manifest import build_manifest
    from alsim.io.stream import TableStream, parse_formats
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.simulate import MAX_REPLICATES, simulate_trial

    table_formats = parse_formats(formats)
    design = load_design(design_file)
    if not 1 <= replicates <= MAX_REPLICATES:
        raise AlsimError(f"--replicates must be 1..{MAX_REPLICATES}, got {replicates}")
    if seed < 0:
        raise AlsimError(f"--seed must be >= 0, got {seed}")
    check_output_dir(out, overwrite=overwrite)
    draws = None
    if uncertainty:
        from alsim.model.uncertainty import shipped_posterior

        draws = shipped_posterior()
    started = time.perf_counter()
    labels = _parameter_labels(DEFAULT_PARAMETERS)
    with atomic_output_dir(out, overwrite=overwrite) as staging:
        streams = {
            name: TableStream(staging, name, table_formats, xpt_labels=labels)
            for name in _table_names(design)
        }
        nonmem = TableStream(staging, "nonmem", ("csv",))
        # a chunk's tables are built and written in a thread while the next chunk is simulated
        with (
            replicate_progress("simulating") as progress,
            ThreadPoolExecutor(max_workers=1) as writer,
        ):
            task = progress.add_task("simulate", total=replicates)
            pending: Future[None] | None = None
            chunk = max(1, CHUNK_PATIENTS // design.n_patients)
            for first in range(0, replicates, chunk):
                n = min(chunk, replicates - first)
                sim = simulate_trial(
                    design, n_replicates=n, seed=seed, first_replicate=first, uncertainty=draws
                )
                if pending is not None:
                    pending.result()
                pending = writer.submit(_write_chunk, sim, streams, nonmem)
                progress.advance(task, n)
            if pending is not None:
                pending.result()
        simulated = time.perf_counter()
        xpt_renamed = {name: stream.close() for name, stream in streams.items()}
        nonmem.close()
        nonmem.discard()
        (staging / "design.yaml").write_text(dump_design(design), encoding="utf-8")
        written = time.perf_counter()
        _write_report(staging, design, streams, seed, replicates)
        for stream in streams.values():
            stream.discard()
        manifest = build_manifest(
            command="simulate",
            designs={design.study_id: design},
            seed=seed,
            n_replicates=replicates,
            parameters=DEFAULT_PARAMETERS,
            timings_s={
                "simulate": simulated - started,
                "write": written - simulated,
                "report": time.perf_counter() - written,
            },
            extra={
                "design_file": str(design_file),
                "command_line": (
                    f"alsim simulate design.yaml --replicates {replicates} --seed {seed}"
                    + (
                        f" --formats {','.join(table_formats)}"
                        if formats != DEFAULT_FORMATS
                        else ""
                    )
                    + (" --uncertainty" if uncertainty else "")
                ),
                "uncertainty": uncertainty,
                "formats": list(table_formats),
                "xpt_renamed_variables": {k: v for k, v in xpt_renamed.items() if v}
                if "xpt" in table_formats
                else {},
            },
        )
        write_json(manifest, staging / "manifest.json")
    console.print(
        f"wrote {replicates} replicate(s) of {design.study_id} "
        f"({design.n_patients} patients each) to {out}"
    )


def _table_names(design: "TrialDesign") -> list[str]:
    """The ADaM tables a design gets, in the order they are written."""
    from alsim.io.adam import QS_PARAM_LABELS, TTE_PARAM_LABELS

    names = ["adsl", "adlb"]
    if any(e in QS_PARAM_LABELS for e in design.endpoints):
        names.append("adqs")
    if any(e in TTE_PARAM_LABELS for e in design.endpoints):
        names.append("adtte")
    return [*names, "adae"]


def _write_chunk(
    sim: "TrialSimulation", streams: "dict[str, TableStream]", nonmem: "TableStream"
) -> None:
    """Build one chunk's tables and append them to their streams."""
    from alsim.io import build_adqs, build_adsl, build_adtte, build_bds
    from alsim.io.adae import build_adae
    from alsim.io.nonmem import build_nonmem

    builders = {
        "adsl": build_adsl,
        "adlb": build_bds,
        "adqs": build_adqs,
        "adtte": build_adtte,
        "adae": build_adae,
    }
    for name, stream in streams.items():
        stream.write(builders[name](sim))
    nonmem.write(build_nonmem(sim))


def _parameter_labels(parameters: "ParameterSet") -> dict[str, str]:
    """XPT labels of the sampled-parameter columns of ADSL: the parameter's description."""
    frame = parameters.to_frame()
    return {str(r.name).upper(): str(r.description) for r in frame.itertuples()}


def _write_report(
    directory: Path, design: "TrialDesign", streams: "dict[str, TableStream]", seed: int, n: int
) -> None:
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.report.pages import StudyFigures, write_report

    # read back only what the figures use
    bds = [streams[name].read(BDS_REPORT_COLUMNS) for name in ("adlb", "adqs") if name in streams]
    adtte = streams["adtte"].read() if "adtte" in streams else None
    study = StudyFigures.from_adam(
        design, bds, adtte, seed=seed, adae=streams["adae"].read(), adsl=streams["adsl"].read()
    )
    write_report(
        directory / "report.html",
        f"alsim: {design.title}",
        f"{n} simulated replicate(s) of {design.study_id}, seed {seed}. Bands are the 2.5-97.5% "
        "range over replicates; with one replicate they collapse onto the line.",
        [study],
        DEFAULT_PARAMETERS,
    )
