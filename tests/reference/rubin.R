# Reference values for Rubin's rules with Barnard-Rubin df: mice::pool.scalar.
# Run: Rscript tests/reference/rubin.R  -> expected_rubin.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
suppressMessages(library(mice))
inp <- read.csv(file.path(here(), "rubin_inputs.csv"))
vals <- list()
for (s in unique(inp$scenario)) {
  d <- inp[inp$scenario == s, ]
  # complete-data df infinite (large-sample) and finite (n = 60 patients, k = 3 parameters)
  for (case in list(list("inf", Inf, 1), list("dfcom57", 60, 3))) {
    p <- pool.scalar(d$estimate, d$variance, n = case[[2]], k = case[[3]])
    key <- sprintf("s%d_%s", s, case[[1]])
    vals[[paste0(key, "_qbar")]] <- p$qbar
    vals[[paste0(key, "_ubar")]] <- p$ubar
    vals[[paste0(key, "_b")]] <- p$b
    vals[[paste0(key, "_t")]] <- p$t
    vals[[paste0(key, "_df")]] <- p$df
    vals[[paste0(key, "_fmi")]] <- p$fmi
  }
}
write_expected(vals, "expected_rubin.csv")
