"""alsim.calibrate."""
