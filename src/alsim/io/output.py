"""Writing result directories atomically: a run that fails or is interrupted leaves no half-written
directory, and an existing directory is replaced only when asked, only after the new one is done."""

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from alsim.errors import AlsimError

TABLE_FORMATS = ("parquet", "csv")


def check_output_dir(path: Path, *, overwrite: bool) -> None:
    """Refuse, before any work starts, to clobber a non-empty directory (or a file) at `path`."""
    if path.exists() and not path.is_dir():
        raise AlsimError(f"--out {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise AlsimError(
            f"--out {path} exists and is not empty; choose another directory or pass --overwrite"
        )


@contextmanager
def atomic_output_dir(path: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces `path` in one rename."""
    path = Path(path)
    check_output_dir(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = None
    if path.exists():
        backup = path.with_name(f".{path.name}.old-{os.getpid()}")
        path.rename(backup)
    staging.rename(path)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def write_table(frame: pd.DataFrame, directory: Path, name: str) -> list[Path]:
    """Write `frame` as `name.parquet` and `name.csv` in `directory`; return the paths."""
    paths = []
    for fmt in TABLE_FORMATS:
        target = directory / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(target, index=False)
        else:
            frame.to_csv(target, index=False)
        paths.append(target)
    return paths


def write_json(document: Mapping[str, Any], target: Path) -> Path:
    """Write a JSON document with stable key order and a trailing newline."""
    target.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return target


def _atomic_target(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.partial")


def write_parquet_atomic(frame: pd.DataFrame, target: Path) -> Path:
    """Write `frame` to `target` (Parquet) via a temporary sibling and `os.replace`: a reader
    or a crash sees the old file or the complete new one, never a partial file."""
    staging = _atomic_target(target)
    try:
        frame.to_parquet(staging, index=False)
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(text: str, target: Path) -> Path:
    """Write `text` (UTF-8) to `target` via a temporary sibling and `os.replace`."""
    staging = _atomic_target(target)
    try:
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return target
