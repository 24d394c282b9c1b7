"""The immutable result every analysis returns: estimates over the replicate axis."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["BoolArray", "EstimateResult", "FloatArray", "IntArray"]


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.setflags(write=False)
    return value


@dataclass(frozen=True, kw_only=True, eq=False)
class EstimateResult:
    """Abstract base of analysis results: one estimate per replicate, with its uncertainty.

    Every array is shaped ``(replicate,)``; a single trial has one replicate. Subclasses add
    analysis-specific arrays (LS means, ratios, test statistics) of the same shape, and
    `to_frame` gives one row per replicate with every such array as a column.

    Attributes
    ----------
    method : str
        Human-readable name of the analysis, including the df method where one applies.
    estimate, std_error : ndarray
        The effect estimate (tofersen minus or over control, see the subclass) and its
        standard error, on the scale named in the subclass docstring.
    ci_low, ci_high : ndarray
        Two-sided confidence interval at level ``ci_level``.
    p_value : ndarray
        Two-sided p-value for no treatment effect.
    df : ndarray
        Degrees of freedom of the reference t distribution (``inf`` for normal-based tests).
    n : ndarray
        Number of patients analysed in each replicate.
    status : ndarray
        ``"ok"`` or a message saying why the replicate could not be analysed (its numbers are
        then NaN); failures in a batch are data, not exceptions.
    ci_level : float
        Confidence level of the intervals (0.95 by default).
    std_error_scale : str
        ``"identity"``, or ``"log"`` for ratio results (GMR, hazard ratio, win ratio), whose
        estimate and CI are ratios while ``std_error`` is that of the log ratio; `to_frame`
        then names the column ``std_error_log``.
    """

    std_error_scale: ClassVar[str] = "identity"

    method: str
    estimate: FloatArray
    std_error: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    p_value: FloatArray
    df: FloatArray
    n: IntArray
    status: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))
    ci_level: float = 0.95

    def __post_init__(self) -> None:
        if type(self) is EstimateResult:
            raise TypeError("EstimateResult is abstract; use an analysis-specific result")
        n_replicates = np.asarray(self.estimate).shape[0]
        if self.status.size == 0:
            object.__setattr__(self, "status", np.full(n_replicates, "ok"))
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                if value.shape[:1] != (n_replicates,):
                    raise ValueError(
                        f"{f.name} must have shape ({n_replicates},...), got {value.shape}"
                    )
                object.__setattr__(self, f.name, _freeze(value))

    @property
    def n_replicates(self) -> int:
        """Number of replicates (trials) analysed."""
        return int(self.estimate.shape[0])

    @property
    def ok(self) -> BoolArray:
        """Replicates whose analysis succeeded."""
        return np.asarray(self.status == "ok")

    def to_frame(self) -> pd.DataFrame:
        """One row per replicate: every per-replicate array of the result as a column
        (``std_error_log`` instead of ``std_error`` for ratio results)."""
        columns: dict[str, Any] = {"replicate": np.arange(self.n_replicates)}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.ndim == 1:
                columns[f.name] = value
        if self.std_error_scale == "log":
            columns["std_error_log"] = columns.pop("std_error")
        frame = pd.DataFrame(columns)
        frame.insert(1, "method", self.method)
        return frame
