"""`manifest.json`: what is needed to re-run a result directory and to trust its origin."""

import platform
import sys
from datetime import UTC, datetime
from typing import Any

import numpy as np

import alsim
from alsim.design.io import design_hash
from alsim.design.trial import TrialDesign
from alsim.model.parameters import ParameterSet


def build_manifest(
    *,
    command: str,
    designs: dict[str, TrialDesign],
    seed: int,
    n_replicates: int,
    parameters: ParameterSet,
    timings_s: dict[str, float],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest document (JSON-ready)."""
    return {
        "alsim_version": alsim.__version__,
        "command": command,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "replicates": n_replicates,
        "designs": {
            name: {"study_id": d.study_id, "sha256": design_hash(d)} for name, d in designs.items()
        },
        "parameters": parameters.to_dict(),
        "timings_s": {k: round(v, 3) for k, v in timings_s.items()},
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        **(extra or {}),
    }
