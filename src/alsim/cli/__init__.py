"""alsim.cli."""
