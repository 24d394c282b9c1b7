"""Joint rank test (Finkelstein & Schoenfeld 1999), rank ANCOVA and win ratio.

All three share one pairwise comparison. Patient ``i`` beats ``j`` (``u_ij = +1``) if

1. on time to death or permanent ventilation: ``j`` had the event first and ``i`` was followed
   beyond it (``t_j < t_i``, or ``t_j == t_i`` with ``i`` censored; censoring after an event at
   a tied time), otherwise
2. on the function endpoint (ALSFRS-R change; higher is better) at the last visit at which both
   were observed; a tie, or no common visit, scores 0.

``U_i = sum_j u_ij`` over patients of the same stratum. The test statistic is
``T = sum_{i treated} U_i`` with permutation variance
``Var(T) = n1 n0 / (N (N - 1)) sum_i U_i^2`` per stratum; strata add ``T`` and ``Var``.
Pairwise scores are formed for blocks of replicates at once, so no Python loop runs per
replicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsim.analysis._arrays import as_covariates, as_patient_array, as_stratum, as_treated
from alsim.analysis._result import BoolArray, EstimateResult, FloatArray, IntArray
from alsim.analysis.ancova import fit_linear, t_interval
from alsim.errors import AnalysisError

__all__ = [
    "JointRankResult",
    "JointRankSpec",
    "PairwiseScores",
    "RankAncovaResult",
    "RankAncovaSpec",
    "WinRatioResult",
    "WinRatioSpec",
    "pairwise_scores",
]

_MAX_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PairwiseScores:
    """Per-patient summaries of the pairwise comparisons, shaped (replicate, patient).

    Attributes
    ----------
    score : U_i, wins minus losses against every patient of the same stratum.
    wins, losses : wins and losses against patients of the *other* arm in the same stratum.
    stratum : stratum codes used (-1 = patient left out).
    treated : treatment indicator.
    uses_survival : whether the survival level entered the comparison.
    """

    score: FloatArray
    wins: FloatArray
    losses: FloatArray
    stratum: IntArray
    treated: BoolArray
    uses_survival: bool


def _as_function(function: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(function, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :, None]
    elif arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise AnalysisError(
            f"function must be shaped (replicate, patient, visit), got shape {arr.shape}"
        )
    return arr


def pairwise_scores(
    function: npt.ArrayLike,
    *,
    treated: npt.ArrayLike,
    time_days: npt.ArrayLike | None = None,
    event: npt.ArrayLike | None = None,
    stratum: npt.ArrayLike | None = None,
) -> PairwiseScores:
    """Score every pair of patients within each replicate and stratum (see module docstring).

    Parameters
    ----------
    function : array_like, shape (replicate, patient, visit) or (replicate, patient)
        Function endpoint (higher is better), NaN where not observed.
    treated : array_like of bool, shape (patient,) or (replicate, patient)
    time_days, event : array_like, shape (replicate, patient), optional
        Time to death or permanent ventilation and its indicator (True = event, False =
        censored). Without them only the function level is used.
    stratum : array_like of int, optional
        Stratum codes; pairs are only compared within a stratum; negative codes leave the
        patient out (also how padding of replicates with fewer patients is marked).
    """
    f = _as_function(function)
    shape = (f.shape[0], f.shape[1])
    trt = as_treated(treated, shape)
    strat = as_stratum(stratum, shape)
    strat = np.zeros(shape, dtype=np.int64) if strat is None else np.asarray(strat)
    uses_survival = time_days is not None
    t = np.zeros(shape)
    d = np.zeros(shape, dtype=bool)
    if time_days is not None:
        if event is None:
            raise AnalysisError(
                "event must be given with time_days (True = event, False = censored)"
            )
        t = as_patient_array("time_days", time_days, shape[0])
        d = np.broadcast_to(np.asarray(event, dtype=bool), shape)
        if t.shape != shape:
            raise AnalysisError(f"time_days has shape {t.shape}; expected {shape}")
    n_rep, n_pat, n_vis = f.shape
    block = max(1, _MAX_BLOCK_ELEMENTS // max(1, n_pat * n_pat * n_vis))
    score = np.zeros(shape)
    wins = np.zeros(shape)
    losses = np.zeros(shape)
    observed = np.isfinite(f)
    visit_index = np.arange(n_vis)
    # monotone dropout (the usual case): the last common visit is the earlier of the two
    # patients' last visits, which avoids a visit axis on the pairwise arrays
    last_obs = observed.sum(axis=-1) - 1
    monotone = bool(np.all(observed == (visit_index <= last_obs[..., None])))
    for start in range(0, n_rep, block):
        sl = slice(start, min(n_rep, start + block))
        s = strat[sl]
        comparable = (s[:, :, None] == s[:, None, :]) & (s[:, :, None] >= 0)
        # level 2: function at the last visit both were observed
        if monotone:
            last = np.minimum(last_obs[sl][:, :, None], last_obs[sl][:, None, :])
            fi = np.take_along_axis(f[sl], np.maximum(last, 0), axis=2)
        else:
            common = observed[sl][:, :, None, :] & observed[sl][:, None, :, :]
            last = np.where(common, visit_index, -1).max(axis=-1)
            fi = np.take_along_axis(
                np.broadcast_to(f[sl][:, :, None, :], common.shape),
                np.maximum(last, 0)[..., None],
                axis=-1,
            )[..., 0]
        fj = np.swapaxes(fi, 1, 2)
        u = np.where(last >= 0, np.sign(np.nan_to_num(fi - fj)), 0.0)
        if uses_survival:
            ti, di = t[sl][:, :, None], d[sl][:, :, None]
            tj, dj = t[sl][:, None, :], d[sl][:, None, :]
            i_better = dj & ((tj < ti) | ((tj == ti) & ~di))
            j_better = di & ((ti < tj) | ((ti == tj) & ~dj))
            u = np.where(i_better, 1.0, np.where(j_better, -1.0, u))
        u = np.where(comparable, u, 0.0)
        tr = trt[sl]
        opposite = tr[:, :, None] != tr[:, None, :]
        score[sl] = u.sum(axis=2)
        wins[sl] = ((u > 0) & opposite).sum(axis=2)
        losses[sl] = ((u < 0) & opposite).sum(axis=2)
    return PairwiseScores(
        score=score,
        wins=wins,
        losses=losses,
        stratum=strat,
        treated=np.asarray(trt),
        uses_survival=uses_survival,
    )


def _levels(stratum: IntArray) -> IntArray:
    return np.unique(stratum[stratum >= 0])


def joint_rank_statistic(scores: PairwiseScores) -> tuple[FloatArray, FloatArray, IntArray]:
    """``T`` (sum of treated scores) and its stratified permutation variance; and ``N``."""
    trt = scores.treated
    t_stat = np.zeros(trt.shape[0])
    var = np.zeros(trt.shape[0])
    n_total = np.zeros(trt.shape[0], dtype=np.int64)
    for level in _levels(scores.stratum):
        in_s = scores.stratum == level
        n1 = (in_s & trt).sum(axis=1)
        n0 = (in_s & ~trt).sum(axis=1)
        n = n1 + n0
        t_stat += np.where(in_s & trt, scores.score, 0.0).sum(axis=1)
        sum_sq = np.where(in_s, scores.score**2, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            var += np.where(n > 1, n1 * n0 / (n * (n - 1.0)) * sum_sq, 0.0)
        n_total += n
    return t_stat, var, n_total


@dataclass(frozen=True, kw_only=True, eq=False)
class JointRankResult(EstimateResult):
    """Joint rank test: ``estimate`` is ``T``, the sum of the treated patients' scores.

    Positive ``T`` favours tofersen. ``std_error`` is ``sqrt(Var(T))`` (permutation variance);
    ``ci_low``/``ci_high`` are the normal interval ``T +/- z SE``; ``df`` is ``inf``.

    Attributes
    ----------
    z : ndarray
        ``T / sqrt(Var(T))``.
    mean_score_treated, mean_score_control : ndarray
        Average ``U_i`` per arm.
    uses_survival : bool
        False when no time-to-event data were given (function endpoint only).
    """

    z: FloatArray
    mean_score_treated: FloatArray
    mean_score_control: FloatArray
    uses_survival: bool = True


def _normal_result_parts(
    estimate: FloatArray, std_error: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        z = estimate / std_error
    q = float(stats.norm.ppf(1 - alpha / 2))
    return z, estimate - q * std_error, estimate + q * std_error, 2 * stats.norm.sf(np.abs(z))


def _arm_counts_status(scores: PairwiseScores) -> tuple[BoolArray, npt.NDArray[np.str_]]:
    present = scores.stratum >= 0
    n1 = (present & scores.treated).sum(axis=1)
    n0 = (present & ~scores.treated).sum(axis=1)
    ok = (n1 > 0) & (n0 > 0)
    status = np.where(ok, "ok", "cannot test: an arm has no patients in this replicate")
    return ok, status


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise AnalysisError(f"alpha must be in (0, 1), got {alpha!r}")


def _method_suffix(uses_survival: bool) -> str:
    if uses_survival:
        return "death/permanent ventilation, then function"
    return "function endpoint only (no time-to-event data)"


@dataclass(frozen=True, slots=True, kw_only=True)
class JointRankSpec:
    """Finkelstein-Schoenfeld joint rank test, optionally stratified.

    Examples
    --------
    >>> import numpy as np
    >>> chg = np.array([[[-2.0], [-5.0], [-1.0], [-4.0]]])
    >>> res = JointRankSpec().fit(chg, treated=[True, False, True, False])
    >>> float(res.estimate[0])
    4.0
    """

    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)

    def fit(
        self,
        function: npt.ArrayLike,
        *,
        treated: npt.ArrayLike,
        time_days: npt.ArrayLike | None = None,
        event: npt.ArrayLike | None = None,
        stratum: npt.ArrayLike | None = None,
    ) -> JointRankResult:
        """Test every replicate; see `pairwise_scores` for the inputs."""
        scores = pairwise_scores(
            function, treated=treated, time_days=time_days, event=event, stratum=stratum
        )
        return self.from_scores(scores)

    def from_scores(self, scores: PairwiseScores) -> JointRankResult:
        """The test from precomputed pairwise scores."""
        t_stat, var, n = joint_rank_statistic(scores)
        ok, status = _arm_counts_status(scores)
        ok &= var > 0
        status = np.where((status == "ok") & ~ok, "cannot test: all patients tie", status)
        se = np.where(ok, np.sqrt(var), np.nan)
        t_stat = np.where(ok, t_stat, np.nan)
        z, lo, hi, p = _normal_result_parts(t_stat, se, self.alpha)
        present = scores.stratum >= 0
        with np.errstate(invalid="ignore"):
            mean_t = np.where(present & scores.treated, scores.score, 0).sum(1) / (
                present & scores.treated
            ).sum(1)
            mean_c = np.where(present & ~scores.treated, scores.score, 0).sum(1) / (
                present & ~scores.treated
            ).sum(1)
        return JointRankResult(
            method=f"joint rank test ({_method_suffix(scores.uses_survival)})",
            estimate=t_stat,
            std_error=se,
            ci_low=lo,
            ci_high=hi,
            p_value=p,
            df=np.full(t_stat.shape, np.inf),
            n=n,
            status=status,
            ci_level=1 - self.alpha,
            z=z,
            mean_score_treated=mean_t,
            mean_score_control=mean_c,
            uses_survival=scores.uses_survival,
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class RankAncovaResult(EstimateResult):
    """Rank ANCOVA: treated-minus-control difference in adjusted mean rank.

    Ranks come from the pairwise scores, ``rank_i = (U_i + N_s + 1) / 2`` within stratum ``s``
    (mid-ranks 1..N_s when every pair is decided), and are analysed by ANCOVA with the
    baseline covariates (and stratum). t-based CI on the residual df.
    """

    uses_survival: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class RankAncovaSpec:
    """ANCOVA on the joint ranks with baseline covariates."""

    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)

    def fit(
        self,
        function: npt.ArrayLike,
        *,
        treated: npt.ArrayLike,
        baseline: npt.ArrayLike | None = None,
        covariates: npt.ArrayLike | None = None,
        time_days: npt.ArrayLike | None = None,
        event: npt.ArrayLike | None = None,
        stratum: npt.ArrayLike | None = None,
    ) -> RankAncovaResult:
        """Analyse every replicate; see `pairwise_scores` for the ranking inputs."""
        scores = pairwise_scores(
            function, treated=treated, time_days=time_days, event=event, stratum=stratum
        )
        n_s = np.zeros(scores.score.shape)
        for level in _levels(scores.stratum):
            in_s = scores.stratum == level
            n_s = np.where(in_s, in_s.sum(axis=1, keepdims=True), n_s)
        rank = np.where(scores.stratum >= 0, (scores.score + n_s + 1) / 2, np.nan)
        shape = scores.score.shape
        cov = as_covariates(covariates, shape)
        has_strata = _levels(scores.stratum).size > 1
        lin = fit_linear(
            rank,
            scores.treated,
            baseline,
            cov,
            scores.stratum if has_strata else None,
        )
        lo, hi, p = t_interval(lin.estimate, lin.std_error, lin.df, self.alpha)
        return RankAncovaResult(
            method=f"rank ANCOVA on joint ranks ({_method_suffix(scores.uses_survival)})",
            estimate=lin.estimate,
            std_error=lin.std_error,
            ci_low=lo,
            ci_high=hi,
            p_value=p,
            df=lin.df,
            n=lin.ols.n,
            status=lin.status,
            ci_level=1 - self.alpha,
            uses_survival=scores.uses_survival,
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class WinRatioResult(EstimateResult):
    """Win ratio tofersen vs control from the same pairwise comparisons.

    ``estimate`` = wins / losses over treated-control pairs (summed over strata), with CI
    ``exp(log WR +/- z SE)``; ``std_error`` is the SE of ``log WR`` from the large-sample
    variance of the two-sample U-statistics (Hoeffding projections, as in Bebu & Lachin 2016),
    stratum variances added.

    Attributes
    ----------
    wins, losses, ties : ndarray
        Number of treated-control pairs won, lost and tied by the treated patient.
    net_benefit : ndarray
        ``(wins - losses) / pairs``.
    """

    std_error_scale: ClassVar[str] = "log"

    wins: FloatArray
    losses: FloatArray
    ties: FloatArray
    net_benefit: FloatArray
    uses_survival: bool = True


def _pair_cov(a: FloatArray, b: FloatArray, mask: BoolArray) -> FloatArray:
    """Sample covariance (ddof 1) of a and b over the masked patients, per replicate."""
    n = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = np.where(mask, a, 0).sum(1) / n
        mb = np.where(mask, b, 0).sum(1) / n
        out = np.where(mask, (a - ma[:, None]) * (b - mb[:, None]), 0).sum(1) / (n - 1)
    return np.where(n > 1, out, 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class WinRatioSpec:
    """Win ratio (death/permanent ventilation first, then function), optionally stratified."""

    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)

    def fit(
        self,
        function: npt.ArrayLike,
        *,
        treated: npt.ArrayLike,
        time_days: npt.ArrayLike | None = None,
        event: npt.ArrayLike | None = None,
        stratum: npt.ArrayLike | None = None,
    ) -> WinRatioResult:
        """Win ratio for every replicate; see `pairwise_scores` for the inputs."""
        scores = pairwise_scores(
            function, treated=treated, time_days=time_days, event=event, stratum=stratum
        )
        return self.from_scores(scores)

    def from_scores(self, scores: PairwiseScores) -> WinRatioResult:
        """Win ratio from precomputed pairwise scores."""
        trt = scores.treated
        n_rep = trt.shape[0]
        wins = np.zeros(n_rep)
        losses = np.zeros(n_rep)
        pairs = np.zeros(n_rep)
        var_w = np.zeros(n_rep)
        var_l = np.zeros(n_rep)
        cov_wl = np.zeros(n_rep)
        for level in _levels(scores.stratum):
            in_s = scores.stratum == level
            t_mask = in_s & trt
            c_mask = in_s & ~trt
            n1 = t_mask.sum(axis=1)
            n0 = c_mask.sum(axis=1)
            wins += np.where(t_mask, scores.wins, 0).sum(1)
            losses += np.where(t_mask, scores.losses, 0).sum(1)
            pairs += n1 * n0
            # totals W = sum_i w_i: Var(W, L) = n1 Cov_T(w_i, l_i) + n0 Cov_C(w_j, l_j), where a
            # control patient's wins for the treated arm are its losses (and vice versa)
            var_w += n1 * _pair_cov(scores.wins, scores.wins, t_mask)
            var_w += n0 * _pair_cov(scores.losses, scores.losses, c_mask)
            var_l += n1 * _pair_cov(scores.losses, scores.losses, t_mask)
            var_l += n0 * _pair_cov(scores.wins, scores.wins, c_mask)
            cov_wl += n1 * _pair_cov(scores.wins, scores.losses, t_mask)
            cov_wl += n0 * _pair_cov(scores.losses, scores.wins, c_mask)
        ok, status = _arm_counts_status(scores)
        ok &= (wins > 0) & (losses > 0)
        status = np.where(
            (status == "ok") & ~ok,
            "cannot estimate: no wins or no losses (win ratio is 0 or infinite)",
            status,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            log_wr = np.where(ok, np.log(wins) - np.log(losses), np.nan)
            var_log = var_w / wins**2 + var_l / losses**2 - 2 * cov_wl / (wins * losses)
            se = np.where(ok & (var_log > 0), np.sqrt(var_log), np.nan)
            net = (wins - losses) / pairs
        _z, lo, hi, p = _normal_result_parts(log_wr, se, self.alpha)
        return WinRatioResult(
            method=f"win ratio ({_method_suffix(scores.uses_survival)})",
            estimate=np.exp(log_wr),
            std_error=se,
            ci_low=np.exp(lo),
            ci_high=np.exp(hi),
            p_value=p,
            df=np.full(n_rep, np.inf),
            n=(scores.stratum >= 0).sum(axis=1).astype(np.int64),
            status=status,
            ci_level=1 - self.alpha,
            wins=wins,
            losses=losses,
            ties=pairs - wins - losses,
            net_benefit=net,
            uses_survival=scores.uses_survival,
        )
