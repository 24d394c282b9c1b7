# Reference values for Kaplan-Meier, log-rank (plain and stratified) and Cox (Efron ties).
# Run: Rscript tests/reference/survival.R  -> expected_survival.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
library(survival)
pat <- read.csv(file.path(here(), "trial_patients.csv"))
vals <- list()
# Kaplan-Meier per arm at fixed days (Greenwood SE on the survival scale)
days <- c(84, 182, 280, 350)
km <- survfit(Surv(time, event) ~ trt, data = pat)
s <- summary(km, times = days, extend = TRUE)
for (k in seq_along(s$time)) {
  arm <- sub("trt=", "", as.character(s$strata[k]))
  vals[[sprintf("km_surv_trt%s_day%d", arm, s$time[k])]] <- s$surv[k]
  vals[[sprintf("km_se_trt%s_day%d", arm, s$time[k])]] <- s$std.err[k]
}
# log-rank, plain and stratified
record_logrank <- function(prefix, sd) {
  vals[[paste0(prefix, "_observed_treated")]] <<- sum(matrix(sd$obs, nrow = 2)[2, ])
  vals[[paste0(prefix, "_expected_treated")]] <<- sum(matrix(sd$exp, nrow = 2)[2, ])
  vals[[paste0(prefix, "_variance")]] <<- sd$var[2, 2]
  vals[[paste0(prefix, "_chisq")]] <<- sd$chisq
  vals[[paste0(prefix, "_p_value")]] <<- pchisq(sd$chisq, 1, lower.tail = FALSE)
}
record_logrank("logrank", survdiff(Surv(time, event) ~ trt, data = pat))
record_logrank("logrank_strat", survdiff(Surv(time, event) ~ trt + strata(stratum), data = pat))
# Cox proportional hazards, Efron ties
record_cox <- function(prefix, fit) {
  s <- summary(fit)
  vals[[paste0(prefix, "_log_hr")]] <<- s$coefficients["trt", "coef"]
  vals[[paste0(prefix, "_std_error")]] <<- s$coefficients["trt", "se(coef)"]
  vals[[paste0(prefix, "_p_value")]] <<- s$coefficients["trt", "Pr(>|z|)"]
  vals[[paste0(prefix, "_hr_ci_low")]] <<- s$conf.int["trt", "lower .95"]
  vals[[paste0(prefix, "_hr_ci_high")]] <<- s$conf.int["trt", "upper .95"]
}
ctl <- coxph.control(eps = 1e-10, iter.max = 100)
record_cox("cox", coxph(Surv(time, event) ~ trt, data = pat, ties = "efron", control = ctl))
record_cox("cox_strat", coxph(Surv(time, event) ~ trt + age + strata(stratum), data = pat,
                              ties = "efron", control = ctl))
write_expected(vals, "expected_survival.csv")
