"""Assurance: the probability of success averaged over what we do not know about the biology.

Power is the rejection rate at fixed parameters (the posterior median of the shipped
calibration); assurance (O'Hagan, Stevens & Campbell 2005) is the rejection rate when every
replicate draws its parameters from the posterior (`alsim power --uncertainty`). Both with their
Monte Carlo standard errors.
"""

import pandas as pd

KEYS = ["point", "label", "analysis", "primary", "effect"]


def assurance_table(at_median: pd.DataFrame, over_posterior: pd.DataFrame) -> pd.DataFrame:
    """One row per (design point, analysis): power at the posterior median beside assurance."""
    left = at_median[[*KEYS, "rejection_rate", "rejection_mcse"]].rename(
        columns={"rejection_rate": "power_at_median", "rejection_mcse": "power_mcse"}
    )
    right = over_posterior[[*KEYS, "rejection_rate", "rejection_mcse"]].rename(
        columns={"rejection_rate": "assurance", "rejection_mcse": "assurance_mcse"}
    )
    return left.merge(right, on=KEYS, how="inner", validate="one_to_one")
