"""Writing result directories atomically: a run that fails or is interrupted leaves no half-written
directory, and an existing directory is overwritten only when asked, only after the new one is done,
and only in the files alsim wrote there (listed in its `manifest.json`): nothing else is deleted."""

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


MANIFEST_NAME = "manifest.json"


def _relative_files(directory: Path) -> list[str]:
    """Every regular file under `directory`, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def _is_safe_relative(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def owned_files(path: Path) -> frozenset[str] | None:
    """The files alsim wrote in directory `path`, as listed by its `manifest.json` (relative
    POSIX paths); None when `path` holds no manifest of alsim's that lists them."""
    try:
        document = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, list) or not all(
        isinstance(f, str) and _is_safe_relative(f) for f in files
    ):
        return None
    return frozenset(files)


def check_output_dir(path: Path, *, overwrite: bool) -> None:
    """Refuse, before any work starts, to write where files alsim did not write could be lost.

    A missing or empty directory is fine. A non-empty one needs `overwrite`, and then its
    `manifest.json` must list the files alsim wrote there: only those are replaced, everything
    else in the directory is left alone.
    """
    if path.exists() and not path.is_dir():
        raise AlsimError(f"--out {path} exists and is not a directory")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not overwrite:
        raise AlsimError(
            f"--out {path} exists and is not empty; choose another directory or pass "
            "--overwrite (it replaces only the files alsim wrote there)"
        )
    if owned_files(path) is None:
        raise AlsimError(
            f"--out {path} was not written by alsim (no {MANIFEST_NAME} listing its files), so "
            "--overwrite will not touch it; choose another directory"
        )


def _seal(staging: Path) -> list[str]:
    """List every file of `staging` in its manifest (written if absent); return the list."""
    manifest = staging / MANIFEST_NAME
    document: dict[str, Any] = {}
    if manifest.is_file():
        document = json.loads(manifest.read_text(encoding="utf-8"))
    files = sorted({*_relative_files(staging), MANIFEST_NAME})
    write_json({**document, "files": files}, manifest)
    return files


def _merge(staging: Path, path: Path, files: list[str]) -> None:
    """Move `files` from `staging` into alsim's directory `path`, file by file (each atomic),
    delete the files of the previous run that this one did not write, and leave every other
    file alone. The manifest goes last; until then the old one lists old and new files, so an
    interrupted merge can itself be overwritten."""
    owned = owned_files(path)
    if owned is None:
        raise AlsimError(f"--out {path} was not written by alsim; choose another directory")
    root = path.resolve()
    for name in files:
        target = path / name
        if name not in owned and (target.exists() or target.is_symlink()):
            raise AlsimError(
                f"--out {path}: {name} was not written by alsim; move it away or choose "
                "another directory"
            )
        if not target.parent.resolve().is_relative_to(root):
            raise AlsimError(f"--out {path}: {name} lies outside it (a linked folder)")
    old = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    old["files"] = sorted(owned | set(files))
    old["incomplete"] = "being replaced; if this stays, the run was interrupted: re-run it"
    write_text_atomic(json.dumps(old, indent=2) + "\n", path / MANIFEST_NAME)
    for name in files:
        if name == MANIFEST_NAME:
            continue
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)
    for name in sorted(owned - set(files)):
        target = path / name
        if not target.parent.resolve().is_relative_to(root):
            continue
        target.unlink(missing_ok=True)
        for parent in target.parents:
            if parent == path:
                break
            try:
                parent.rmdir()
            except OSError:
                break
    os.replace(staging / MANIFEST_NAME, path / MANIFEST_NAME)


@contextmanager
def atomic_output_dir(path: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory to write into; when the block succeeds its files are
    listed in its `manifest.json` and it becomes `path`.

    A new or empty `path` is replaced in one rename. With `overwrite`, a directory alsim wrote
    before (its manifest lists its files) gets the new files, loses the files of the old run
    that the new one did not write, and keeps everything else (see `check_output_dir`).
    """
    path = Path(path)
    check_output_dir(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    try:
        yield staging
        files = _seal(staging)
        check_output_dir(path, overwrite=overwrite)
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
        if path.exists():
            _merge(staging, path, files)
        else:
            staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
