# Reference values for the Mantel-Haenszel risk difference with Sato's variance, written from the
# papers (base R has no stratified risk difference; Debian ships no epiR):
# - Greenland S, Robins JM. Estimation of a common effect parameter from sparse follow-up data.
#   Biometrics 1985;41:55-68: RD_MH = sum (a n0 - c n1) / N / sum n1 n0 / N.
# - Sato T. On the variance estimator for the Mantel-Haenszel risk difference. Biometrics
#   1989;45:1323-4: Var = (RD sum P + sum Q) / (sum n1 n0 / N)^2,
#   P = (n1^2 c - n0^2 a + n1 n0 (n0 - n1) / 2) / N^2, Q = (a (n0 - c) + c (n1 - a)) / (2 N).
# Outcome: death or permanent ventilation by day 182 in trial_patients.csv (patients censored
# before day 182 without the event are left out). Without strata the same formulas on one
# stratum; its point estimate is also checked against prop.test's difference of proportions.
# Run: Rscript tests/reference/risk_difference.R  -> expected_risk_difference.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
pat <- read.csv(file.path(here(), "trial_patients.csv"))
day <- 182
known <- pat$event == 1 & pat$time <= day | pat$time >= day
d <- pat[known, ]
d$y <- as.integer(d$event == 1 & d$time <= day)
mh <- function(strata) {
  num <- 0; w <- 0; P <- 0; Q <- 0
  for (s in unique(strata)) {
    x <- d[strata == s, ]
    a <- sum(x$y[x$trt == 1]); n1 <- sum(x$trt == 1)
    c <- sum(x$y[x$trt == 0]); n0 <- sum(x$trt == 0)
    N <- n1 + n0
    num <- num + (a * n0 - c * n1) / N
    w <- w + n1 * n0 / N
    P <- P + (n1^2 * c - n0^2 * a + n1 * n0 * (n0 - n1) / 2) / N^2
    Q <- Q + (a * (n0 - c) + c * (n1 - a)) / (2 * N)
  }
  rd <- num / w
  c(rd = rd, se = sqrt((rd * P + Q) / w^2))
}
vals <- list()
for (stratified in c(FALSE, TRUE)) {
  prefix <- if (stratified) "rd_strat" else "rd"
  r <- mh(if (stratified) d$stratum else rep("ALL", nrow(d)))
  z <- r[["rd"]] / r[["se"]]
  vals[[paste0(prefix, "_estimate")]] <- r[["rd"]]
  vals[[paste0(prefix, "_std_error")]] <- r[["se"]]
  vals[[paste0(prefix, "_ci_low")]] <- r[["rd"]] - qnorm(0.975) * r[["se"]]
  vals[[paste0(prefix, "_ci_high")]] <- r[["rd"]] + qnorm(0.975) * r[["se"]]
  vals[[paste0(prefix, "_p_value")]] <- 2 * pnorm(-abs(z))
}
pt <- prop.test(c(sum(d$y[d$trt == 1]), sum(d$y[d$trt == 0])),
                c(sum(d$trt == 1), sum(d$trt == 0)), correct = FALSE)
stopifnot(abs(unname(pt$estimate[1] - pt$estimate[2]) - vals$rd_estimate) < 1e-12)
vals[["n_known"]] <- nrow(d)
write_expected(vals, "expected_risk_difference.csv")
