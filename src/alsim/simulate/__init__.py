"""alsim.simulate."""
