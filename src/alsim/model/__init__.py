"""alsim.model."""
