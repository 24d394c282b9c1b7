"""alsim.population."""
