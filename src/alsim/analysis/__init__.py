"""alsim.analysis."""
