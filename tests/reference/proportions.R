# Reference values for the difference in proportions with an event by a landmark day:
# unstratified (Wald, prop.test without continuity correction) and stratified Mantel-Haenszel
# (Sato variance, metafor::rma.mh with measure "RD").
# Status at the landmark from trial_patients.csv: 1 = event by the day, 0 = followed past it
# without the event, unknown (left out) otherwise.
# Run: Rscript tests/reference/proportions.R  -> expected_proportions.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
library(metafor)
pat <- read.csv(file.path(here(), "trial_patients.csv"))
vals <- list()
for (day in c(182, 280)) {
  status <- ifelse(pat$event == 1 & pat$time <= day, 1, ifelse(pat$time >= day, 0, NA))
  d <- pat[!is.na(status), ]
  y <- status[!is.na(status)]
  x <- c(sum(y[d$trt == 1]), sum(y[d$trt == 0]))
  n <- c(sum(d$trt == 1), sum(d$trt == 0))
  pt <- prop.test(x, n, correct = FALSE)
  vals[[sprintf("wald_day%d_estimate", day)]] <- unname(pt$estimate[1] - pt$estimate[2])
  vals[[sprintf("wald_day%d_ci_low", day)]] <- pt$conf.int[1]
  vals[[sprintf("wald_day%d_ci_high", day)]] <- pt$conf.int[2]
  tab <- do.call(rbind, lapply(split(seq_along(y), d$stratum), function(i) {
    data.frame(ai = sum(y[i][d$trt[i] == 1]), n1i = sum(d$trt[i] == 1),
               ci = sum(y[i][d$trt[i] == 0]), n2i = sum(d$trt[i] == 0))
  }))
  mh <- rma.mh(ai = tab$ai, n1i = tab$n1i, ci = tab$ci, n2i = tab$n2i, measure = "RD")
  vals[[sprintf("mh_day%d_estimate", day)]] <- as.numeric(mh$beta)
  vals[[sprintf("mh_day%d_std_error", day)]] <- mh$se
  vals[[sprintf("mh_day%d_p_value", day)]] <- mh$pval
  vals[[sprintf("mh_day%d_ci_low", day)]] <- mh$ci.lb
  vals[[sprintf("mh_day%d_ci_high", day)]] <- mh$ci.ub
}
write_expected(vals, "expected_proportions.csv")
