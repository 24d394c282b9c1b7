# Reference values for the MMRM: nlme::gls with unstructured covariance (corSymm + varIdent), REML.
# Run: Rscript tests/reference/mmrm.R  -> expected_mmrm.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
library(nlme)
long <- read.csv(file.path(here(), "trial_long.csv"))
long$visit <- factor(long$visit_index, levels = 1:5)
long$stratum <- factor(long$stratum, levels = c("FASTER", "SLOWER"))
ctl <- glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
vals <- list()
record <- function(prefix, fit, data) {
  b <- coef(fit)
  V <- vcov(fit)
  # treated-minus-control contrast at week 28 (visit 5): trt + trt:visit5
  cvec <- setNames(rep(0, length(b)), names(b))
  cvec["trt"] <- 1
  cvec["visit5:trt"] <- 1
  vals[[paste0(prefix, "_estimate")]] <<- sum(cvec * b)
  vals[[paste0(prefix, "_std_error")]] <<- sqrt(drop(t(cvec) %*% V %*% cvec))
  # LS mean of the control arm at visit 5, continuous covariates at their mean over patients
  pat <- data[!duplicated(data$id), ]
  X <- model.matrix(formula(fit), data = data)
  lc <- setNames(rep(0, length(b)), names(b))
  lc["(Intercept)"] <- 1
  lc["visit5"] <- 1
  lc["base"] <- mean(pat$base)
  if ("age" %in% names(b)) lc["age"] <- mean(pat$age)
  if ("stratumSLOWER" %in% names(b)) lc["stratumSLOWER"] <- 0.5
  vals[[paste0(prefix, "_lsmean_control")]] <<- sum(lc * b)
  vals[[paste0(prefix, "_se_lsmean_control")]] <<- sqrt(drop(t(lc) %*% V %*% lc))
  S <- getVarCov(fit, individual = pat$id[which(table(data$id)[as.character(pat$id)] == 5)[1]])
  for (i in 1:5) for (j in i:5) vals[[sprintf("%s_sigma_%d%d", prefix, i, j)]] <<- S[i, j]
  vals[[paste0(prefix, "_reml_loglik")]] <<- as.numeric(logLik(fit))
}
fit <- gls(chg ~ base + visit * trt, data = long,
           correlation = corSymm(form = ~ visit_index | id),
           weights = varIdent(form = ~ 1 | visit), method = "REML", control = ctl)
record("mmrm", fit, long)
fit2 <- gls(chg ~ base + age + stratum + visit * trt, data = long,
            correlation = corSymm(form = ~ visit_index | id),
            weights = varIdent(form = ~ 1 | visit), method = "REML", control = ctl)
record("mmrm_cov", fit2, long)
write_expected(vals, "expected_mmrm.csv")
