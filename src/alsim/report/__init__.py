"""alsim.report."""
