"""SOD1 knock-down: RNase H-driven extra decay of SOD1 mRNA, slow protein turnover, CSF readout.

Normalised states (1 at baseline without drug): M = SOD1 mRNA in CNS cells, P = SOD1 protein.
SCIENCE.md s.2.
"""

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def knockdown(
    tissue_mg: FloatArray, s_max: FloatArray, ec50_mg: FloatArray, hill: FloatArray | float
) -> FloatArray:
    """Extra relative mRNA decay S(A) = S_max A^h / (EC50^h + A^h) from tissue tofersen."""
    ratio = np.maximum(tissue_mg, 0.0) / ec50_mg
    powered = ratio**hill
    return s_max * powered / (1.0 + powered)


def mrna_rate(m: FloatArray, extra_decay: FloatArray, k_mrna_per_day: FloatArray) -> FloatArray:
    """dM/dt = k_M (1 - M (1 + S)): constant synthesis, decay sped up by the drug."""
    return k_mrna_per_day * (1.0 - m * (1.0 + extra_decay))


def protein_rate(m: FloatArray, p: FloatArray, k_sod1_per_day: FloatArray) -> FloatArray:
    """dP/dt = k_P (M - P): protein made from mRNA, lost at its own (slow) rate."""
    return k_sod1_per_day * (m - p)


def csf_sod1_ng_ml(p: FloatArray, f_cns: FloatArray, base_ng_ml: FloatArray) -> FloatArray:
    """Measured CSF SOD1: a suppressible CNS-derived part plus a fixed non-suppressible part."""
    return base_ng_ml * (f_cns * p + (1.0 - f_cns))
