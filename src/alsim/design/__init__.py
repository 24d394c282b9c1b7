"""alsim.design."""
