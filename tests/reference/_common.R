# Shared helpers for the reference scripts: read the committed datasets, write name,value CSVs.
here <- function() {
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f) == 0) "." else dirname(normalizePath(f))
}
write_expected <- function(values, file) {
  out <- data.frame(name = names(values), value = sprintf("%.15g", unlist(values)))
  write.csv(out, file.path(here(), file), row.names = FALSE, quote = FALSE)
}
