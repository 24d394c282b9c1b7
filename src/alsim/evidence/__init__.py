"""alsim.evidence."""
