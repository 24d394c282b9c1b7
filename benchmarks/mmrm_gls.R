# The same MMRM as alsim's MmrmSpec, fitted by nlme::gls (unstructured covariance: corSymm +
# varIdent, REML), replicate by replicate, for benchmarks/bench_mmrm.py.
# Usage: Rscript benchmarks/mmrm_gls.R DATA.csv OUT.csv
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(nlme))
long <- read.csv(args[1])
K <- max(long$visit_index)
long$visit <- factor(long$visit_index, levels = 1:K)
ctl <- glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
out <- data.frame()
for (r in sort(unique(long$replicate))) {
  d <- long[long$replicate == r, ]
  started <- proc.time()[["elapsed"]]
  fit <- gls(chg ~ base + visit * trt, data = d, correlation = corSymm(form = ~ visit_index | id),
             weights = varIdent(form = ~ 1 | visit), method = "REML", control = ctl)
  seconds <- proc.time()[["elapsed"]] - started
  b <- coef(fit)
  V <- vcov(fit)
  cvec <- setNames(rep(0, length(b)), names(b))
  cvec["trt"] <- 1
  cvec[paste0("visit", K, ":trt")] <- 1
  out <- rbind(out, data.frame(replicate = r, seconds = seconds, estimate = sum(cvec * b),
                               std_error = sqrt(drop(t(cvec) %*% V %*% cvec))))
}
write.csv(out, args[2], row.names = FALSE)
