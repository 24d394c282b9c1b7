"""alsim.io."""
