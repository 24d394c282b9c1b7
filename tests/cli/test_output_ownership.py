"""`--overwrite` replaces only what alsim wrote (the files its manifest lists) and never deletes a
file it did not write: not in the output directory, not beside it in `out/`."""

import json
import shlex
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import template_path

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
PHASE12 = str(template_path("phase12"))
VALOR = str(template_path("valor"))


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def simulate(design: str, out: Path, *extra: str) -> tuple[int, str]:
    return run("simulate", design, "--replicates", "1", "--out", str(out), *extra)


def manifest(directory: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((directory / "manifest.json").read_text())


def files_under(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def test_manifest_lists_every_file_alsim_wrote(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    code, text = simulate(PHASE12, out)
    assert code == 0, text
    assert set(manifest(out)["files"]) == files_under(out)
    assert "manifest.json" in manifest(out)["files"]


def test_overwrite_replaces_alsims_files_and_keeps_the_users(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    assert simulate(VALOR, out, "--seed", "1")[0] == 0
    assert "adqs.csv" in manifest(out)["files"]
    (out / "my notes.txt").write_text("precious")
    (out / "analysis").mkdir()
    (out / "analysis" / "fit.R").write_text("lm(y ~ x)")
    # a different design: ADQS/ADTTE of the old run are alsim's and go; the user's files stay
    code, text = simulate(PHASE12, out, "--seed", "2", "--overwrite")
    assert code == 0, text
    assert (out / "my notes.txt").read_text() == "precious"
    assert (out / "analysis" / "fit.R").read_text() == "lm(y ~ x)"
    assert not (out / "adqs.csv").exists() and not (out / "adtte.parquet").exists()
    assert manifest(out)["seed"] == 2 and "incomplete" not in manifest(out)
    assert set(manifest(out)["files"]) == files_under(out) - {"my notes.txt", "analysis/fit.R"}
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]  # no staging or backup left behind


def test_overwrite_refuses_a_directory_alsim_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("chapter 1")
    code, text = simulate(PHASE12, out, "--overwrite")
    assert code == 2
    assert "was not written by alsim" in text and len(text.strip().splitlines()) == 1
    assert files_under(out) == {"thesis.tex"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_overwrite_refuses_to_replace_a_user_file_with_an_alsim_name(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    assert simulate(PHASE12, out)[0] == 0
    (out / "comparison.md").write_text("my own comparison")  # reproduce writes this name
    before = {name: (out / name).read_bytes() for name in files_under(out)}
    code, text = run("reproduce", "--study", "phase12", "-r", "2", "--out", str(out), "--overwrite")
    assert code == 2
    assert "comparison.md was not written by alsim" in text
    assert {name: (out / name).read_bytes() for name in files_under(out)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_a_manifest_cannot_point_overwrite_outside_the_directory(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    assert simulate(PHASE12, out)[0] == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    document = manifest(out)
    document["files"].append("../victim.txt")
    (out / "manifest.json").write_text(json.dumps(document))
    code, text = simulate(PHASE12, out, "--overwrite")
    assert code == 2 and "was not written by alsim" in text
    assert victim.read_text() == "keep"


def test_overwrite_is_a_flag_and_study_lists_its_choices() -> None:
    for command in ("simulate", "reproduce"):
        code, text = run(command, "--help")
        assert code == 0
        line = next(x for x in text.splitlines() if x.strip().startswith("--overwrite"))
        assert line.split()[1:3] != ["<bool>"] and "<" not in line.split()[1]
    code, text = run("reproduce", "--help")
    assert "--study <all|phase12|valor|ole|atlas>" in text
    from alsim.cli.reproduce import Study
    from alsim.evidence.reproduce import available_studies

    assert [s.value for s in Study] == ["all", *available_studies()]
    code, text = run("reproduce", "--study", "phase9")
    assert code == 2 and "'phase9' is not one of 'all', 'phase12', 'valor', 'ole', 'atlas'" in text


def _make_reproduce_command(*variables: str) -> list[str]:
    """The command `make reproduce` runs (its recipe, not run: `make -n`)."""
    dry = subprocess.run(
        ["make", "-n", "-C", str(REPO), "reproduce", *variables],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in dry.splitlines() if " reproduce " in x and "alsim" in x)
    words = shlex.split(line)
    return words[words.index("reproduce") :]


def test_make_reproduce_leaves_the_users_files_in_out_untouched(tmp_path: Path) -> None:
    """`make reproduce` writes out/reproduce only: the README's own out/sim, out/phase12 and
    out/power, and anything else a user keeps in out/, survive it, run after run."""
    default = _make_reproduce_command()
    assert default[default.index("--out") + 1] == "out/reproduce" and "--overwrite" in default
    out = tmp_path / "out"
    assert simulate(PHASE12, out / "sim")[0] == 0
    assert run("reproduce", "--study", "phase12", "-r", "2", "--out", str(out / "phase12"))[0] == 0
    (out / "power").mkdir()
    (out / "power" / "campaign.json").write_text("{}")
    (out / "todo.txt").write_text("read the report")
    before = {name: (out / name).read_bytes() for name in files_under(out)}
    command = _make_reproduce_command("STUDY=phase12", "REPLICATES=2", f"OUT={out / 'reproduce'}")
    for _ in range(2):  # a second run overwrites its own files
        code, text = run(*command)
        assert code == 0, text
    after = files_under(out)
    assert {name for name in after if not name.startswith("reproduce/")} == set(before)
    assert all((out / name).read_bytes() == data for name, data in before.items())
    assert (out / "reproduce" / "report.html").is_file()


@pytest.mark.parametrize("target", ["file", "nested"])
def test_out_that_is_a_file_is_refused_without_touching_it(tmp_path: Path, target: str) -> None:
    path = tmp_path / "report.html"
    path.write_text("not a directory")
    out = path if target == "file" else tmp_path
    code, _text = simulate(PHASE12, out, "--overwrite")
    assert code == 2
    assert path.read_text() == "not a directory"
