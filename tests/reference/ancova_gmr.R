# Reference values for ANCOVA and GMR ANCOVA (R stats::lm + emmeans).
# Run: Rscript tests/reference/ancova_gmr.R  -> expected_ancova_gmr.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
suppressMessages(library(emmeans))
long <- read.csv(file.path(here(), "trial_long.csv"))
pat <- read.csv(file.path(here(), "trial_patients.csv"))
w28 <- long[long$visit_index == 5, ]
w28$trt <- factor(w28$trt, levels = c(0, 1))
w28$stratum <- factor(w28$stratum, levels = c("FASTER", "SLOWER"))
vals <- list()
record <- function(prefix, fit) {
  s <- summary(fit)$coefficients
  ci <- confint(fit)["trt1", ]
  em <- summary(emmeans(fit, "trt"))
  vals[[paste0(prefix, "_estimate")]] <<- s["trt1", "Estimate"]
  vals[[paste0(prefix, "_std_error")]] <<- s["trt1", "Std. Error"]
  vals[[paste0(prefix, "_p_value")]] <<- s["trt1", "Pr(>|t|)"]
  vals[[paste0(prefix, "_ci_low")]] <<- ci[[1]]
  vals[[paste0(prefix, "_ci_high")]] <<- ci[[2]]
  vals[[paste0(prefix, "_df")]] <<- fit$df.residual
  vals[[paste0(prefix, "_lsmean_control")]] <<- em$emmean[1]
  vals[[paste0(prefix, "_lsmean_treated")]] <<- em$emmean[2]
  vals[[paste0(prefix, "_se_lsmean_control")]] <<- em$SE[1]
  vals[[paste0(prefix, "_se_lsmean_treated")]] <<- em$SE[2]
}
# chg ~ treatment + baseline
record("ancova", lm(chg ~ trt + base, data = w28))
# chg ~ treatment + baseline + age + stratum (LS means: equal weights over strata)
record("ancova_cov", lm(chg ~ trt + base + age + stratum, data = w28))
# GMR: log(NfL28 / NfL0) ~ treatment + log(NfL0)
p28 <- pat[!is.na(pat$nfl28), ]
p28$trt <- factor(p28$trt, levels = c(0, 1))
p28$lr <- log(p28$nfl28 / p28$nfl0)
p28$lb <- log(p28$nfl0)
record("gmr", lm(lr ~ trt + lb, data = p28))
write_expected(vals, "expected_ancova_gmr.csv")
