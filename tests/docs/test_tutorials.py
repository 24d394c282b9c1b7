"""The three tutorials of the documentation run, as written, at tiny sizes: every `alsim` command
of their `sh` blocks exits 0 and every `python` block runs, in order, in a fresh directory."""

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design.templates import template_path

DOCS = Path(__file__).resolve().parents[2] / "docs"
TUTORIALS = sorted((DOCS / "tutorials").glob("*.md"))
BLOCK = re.compile(r"```(sh|python)\n(.*?)```", re.DOTALL)
#: Tiny sizes: the tutorials' replicate counts, and power's truth run and imputations.
SHRINK = ((re.compile(r"--replicates \d+"), "--replicates 3"),)
POWER_EXTRA = ["--truth-patients", "100", "--imputations", "2"]


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(kind, body) for kind, body in BLOCK.findall(path.read_text(encoding="utf-8"))]


def commands(body: str) -> list[list[str]]:
    lines = [line for line in body.replace("\\\n", " ").splitlines() if line.strip()]
    found = []
    for line in lines:
        if line.lstrip().startswith("#"):
            continue
        for pattern, replacement in SHRINK:
            line = pattern.sub(replacement, line)
        words = shlex.split(line, comments=True)
        assert words[0] == "alsim", f"tutorial shell lines run alsim only: {line}"
        extra = POWER_EXTRA if words[1] == "power" else []
        found.append(words[1:] + extra)
    return found


def test_there_are_three_tutorials_with_runnable_blocks() -> None:
    assert [p.stem for p in TUTORIALS] == ["analyze-adam", "design-and-power", "reproduce-valor"]
    for path in TUTORIALS:
        kinds = [kind for kind, _ in blocks(path)]
        assert "sh" in kinds and "python" in kinds, path.name


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "designs").symlink_to(template_path("valor").parent, target_is_directory=True)
    runner = CliRunner()
    for kind, body in blocks(path):
        if kind == "python":
            exec(compile(body, f"{path.name}:python", "exec"), {"__name__": "__tutorial__"})
            continue
        for args in commands(body):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
    assert os.listdir(tmp_path)
