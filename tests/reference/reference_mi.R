# Reference values for reference-based multiple imputation, written from
# Carpenter JR, Roger JH, Kenward MG. Analysis of longitudinal trials with protocol deviation: a
# framework for relevant, accessible assumptions, and inference via multiple imputation.
# J Biopharm Stat 2013;23:1352-71 (section 4), independently of alsim.
# Per arm d, the outcome vector given baseline is multivariate normal, mean mu_d(x) = x' B_d and
# unstructured covariance S_d, fitted on the arm's complete patients (multivariate least
# squares; n - 2 divisor). A patient of arm d who deviates after visit j (observed 1..j) has
# the joint law (mu_new, S_new):
#   MAR:   mu_d, S_d
#   J2R:   mu_new = (mu_d[1..j], mu_r[j+1..K])                         jump to reference
#   CIR:   mu_new[t] = mu_d[j] + mu_r[t] - mu_r[j] for t > j (j = 0: the baseline in both arms)
#   CR:    mu_new = mu_r, S_new = S_r                                   copy reference
#   J2R and CIR: S_new has S_d's pre-deviation block, and post-deviation given pre-deviation as
#   in the reference arm: S_new[2,1] = S_r[2,1] S_r[1,1]^-1 S_d[1,1],
#   S_new[2,2] = S_r[2,2] - S_r[2,1] S_r[1,1]^-1 (S_r[1,1] - S_d[1,1]) S_r[1,1]^-1 S_r[1,2].
# The imputation law of the missing values is the conditional of (mu_new, S_new) given the
# observed ones; its mean and variance at every missing visit of the target patients are written.
# Run: Rscript tests/reference/reference_mi.R  -> expected_reference_mi.csv
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "_common.R"))
d <- read.csv(file.path(here(), "reference_mi.csv"))
K <- 4
ys <- paste0("y", 1:K)
fit_arm <- function(arm) {
  x <- d[d$trt == arm & d$role == "fit", ]
  f <- lm(as.matrix(x[, ys]) ~ base, data = x)
  list(B = coef(f), S = crossprod(residuals(f)) / (nrow(x) - 2))
}
arms <- list("0" = fit_arm(0), "1" = fit_arm(1))
ref <- arms[["0"]]
vals <- list()
targets <- d[d$role == "target", ]
for (i in seq_len(nrow(targets))) {
  p <- targets[i, ]
  own <- arms[[as.character(p$trt)]]
  x <- c(1, p$base)
  mu_d <- drop(x %*% own$B)
  mu_r <- drop(x %*% ref$B)
  y <- unlist(p[ys])
  j <- sum(!is.na(y))
  o <- seq_len(j)
  m <- if (j < K) (j + 1):K else integer(0)
  for (method in c("mar", "jump-to-reference", "copy-increments-from-reference", "copy-reference")) {
    if (method == "mar") {
      mu <- mu_d; S <- own$S
    } else if (method == "copy-reference") {
      mu <- mu_r; S <- ref$S
    } else {
      if (method == "jump-to-reference") {
        mu <- c(mu_d[o], mu_r[m])
      } else {
        at_j_d <- if (j == 0) p$base else mu_d[j]
        at_j_r <- if (j == 0) p$base else mu_r[j]
        mu <- c(mu_d[o], at_j_d + mu_r[m] - at_j_r)
      }
      Sd <- own$S; Sr <- ref$S
      S <- matrix(0, K, K)
      if (j == 0) {
        S <- Sr
      } else {
        R11i <- solve(Sr[o, o, drop = FALSE])
        S[o, o] <- Sd[o, o]
        S[m, o] <- Sr[m, o, drop = FALSE] %*% R11i %*% Sd[o, o]
        S[o, m] <- t(S[m, o, drop = FALSE])
        S[m, m] <- Sr[m, m] - Sr[m, o, drop = FALSE] %*% R11i %*%
          (Sr[o, o] - Sd[o, o]) %*% R11i %*% Sr[o, m, drop = FALSE]
      }
    }
    if (j == 0) {
      cm <- mu[m]; cv <- S[m, m]
    } else {
      A <- S[m, o, drop = FALSE] %*% solve(S[o, o, drop = FALSE])
      cm <- drop(mu[m] + A %*% (y[o] - mu[o]))
      cv <- S[m, m, drop = FALSE] - A %*% S[o, m, drop = FALSE]
    }
    for (k in seq_along(m)) {
      key <- sprintf("%d_%s_y%d", p$id, method, m[k])
      vals[[paste0(key, "_mean")]] <- cm[k]
      vals[[paste0(key, "_var")]] <- if (length(m) == 1) cv else diag(cv)[k]
    }
  }
}
write_expected(vals, "expected_reference_mi.csv")
