"""alsim.calibrate: fit parameters to published targets.

`joint` (with `targets`, `emulator`, `output`, `report`, `sbc`) is the joint Bayesian calibration
behind `alsim calibrate`; `safety` calibrates the adverse-event risks. `valor`,
`natural_history` and `sensitivity` are the earlier one-parameter-at-a-time fits, kept for
reference.
"""
