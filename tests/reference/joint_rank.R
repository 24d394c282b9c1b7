# Reference values for the joint rank test and the win ratio, written independently of alsim
# from the papers, pair by pair (no R package implements the Finkelstein-Schoenfeld test in
# Debian):
# - Finkelstein DM, Schoenfeld DA. Combining mortality and longitudinal measures in clinical
#   trials. Stat Med 1999;18:1341-54. Every pair of patients in a stratum is compared first on
#   survival (where censoring lets it be decided: the patient whose death is observed first
#   loses; equal times: a death loses to a censoring, two deaths tie), otherwise on the
#   function endpoint at the last visit both were observed (no common visit: a tie).
#   U_i = sum_j u_ij; T = sum over treated of U_i; Var(T) = sum over strata of
#   n1 n0 / (N (N - 1)) sum_i U_i^2; Z = T / sqrt(Var T).
# - Pocock SJ et al. The win ratio. Eur Heart J 2012;33:176-82: over treated-control pairs,
#   wins / losses, strata summed. Its SE on the log scale from the large-sample variance of the
#   two-sample U-statistics (Bebu I, Lachin JM. Biostatistics 2016;17:178-87), strata summed.
# Run: Rscript tests/reference/joint_rank.R  -> expected_joint_rank.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
pat <- read.csv(file.path(here(), "trial_patients.csv"))
long <- read.csv(file.path(here(), "trial_long.csv"))
n <- nrow(pat)
K <- max(long$visit_index)
f <- matrix(NA_real_, n, K)
f[cbind(match(long$id, pat$id), long$visit_index)] <- long$chg

compare <- function(i, j, survival) {
  if (survival) {
    ti <- pat$time[i]; tj <- pat$time[j]; di <- pat$event[i] == 1; dj <- pat$event[j] == 1
    if (dj && (tj < ti || (tj == ti && !di))) return(1)
    if (di && (ti < tj || (ti == tj && !dj))) return(-1)
  }
  both <- which(!is.na(f[i, ]) & !is.na(f[j, ]))
  if (length(both) == 0) return(0)
  k <- max(both)
  sign(f[i, k] - f[j, k])
}

vals <- list()
for (survival in c(TRUE, FALSE)) {
  for (stratified in c(FALSE, TRUE)) {
    prefix <- paste0(if (survival) "jr" else "jrfun", if (stratified) "_strat" else "")
    s <- if (stratified) pat$stratum else rep("ALL", n)
    U <- numeric(n); T <- 0; V <- 0
    wins <- 0; losses <- 0; pairs <- 0; var_w <- 0; var_l <- 0; cov_wl <- 0
    for (level in unique(s)) {
      idx <- which(s == level)
      u <- matrix(0, length(idx), length(idx))
      for (a in seq_along(idx)) for (b in seq_along(idx)) {
        if (a != b) u[a, b] <- compare(idx[a], idx[b], survival)
      }
      U[idx] <- rowSums(u)
      trt <- pat$trt[idx] == 1
      n1 <- sum(trt); n0 <- sum(!trt); N <- n1 + n0
      T <- T + sum(U[idx][trt])
      V <- V + n1 * n0 / (N * (N - 1)) * sum(U[idx]^2)
      # win ratio: treated rows against control columns
      w <- u[trt, !trt, drop = FALSE] > 0
      l <- u[trt, !trt, drop = FALSE] < 0
      wins <- wins + sum(w); losses <- losses + sum(l); pairs <- pairs + n1 * n0
      wi <- rowSums(w); li <- rowSums(l)     # per treated patient
      wj <- colSums(w); lj <- colSums(l)     # per control patient (wins of treated against it)
      var_w <- var_w + n1 * var(wi) + n0 * var(wj)
      var_l <- var_l + n1 * var(li) + n0 * var(lj)
      cov_wl <- cov_wl + n1 * cov(wi, li) + n0 * cov(wj, lj)
    }
    vals[[paste0(prefix, "_T")]] <- T
    vals[[paste0(prefix, "_var")]] <- V
    vals[[paste0(prefix, "_z")]] <- T / sqrt(V)
    vals[[paste0(prefix, "_p_value")]] <- 2 * pnorm(-abs(T / sqrt(V)))
    vals[[paste0(prefix, "_wins")]] <- wins
    vals[[paste0(prefix, "_losses")]] <- losses
    vals[[paste0(prefix, "_win_ratio")]] <- wins / losses
    vals[[paste0(prefix, "_net_benefit")]] <- (wins - losses) / pairs
    var_log <- var_w / wins^2 + var_l / losses^2 - 2 * cov_wl / (wins * losses)
    vals[[paste0(prefix, "_se_log_win_ratio")]] <- sqrt(var_log)
  }
}
write_expected(vals, "expected_joint_rank.csv")
