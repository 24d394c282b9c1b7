"""SOD1 knock-down: RNase H-driven extra decay of SOD1 mRNA, slow protein turnover, CSF readout.

Normalised states (1 at baseline without drug): M = SOD1 mRNA in CNS cells, P = SOD1 protein,
``dM/dt = k_M (1 - M (1 + S))`` and ``dP/dt = k_P (M - P)``, integrated by
`alsim.model.system` (SCIENCE.md s.2).
"""

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def knockdown(
    tissue_mg: FloatArray, s_max: FloatArray, ec50_mg: FloatArray, hill: FloatArray | float
) -> FloatArray:
    """Extra relative mRNA decay S(A) = S_max A^h / (EC50^h + A^h) from tissue tofersen.

    An integer Hill coefficient shared by all patients (as in the table) is raised by repeated
    multiplication, much cheaper than a general power in the solver's inner loop."""
    ratio = np.maximum(tissue_mg, 0.0) / ec50_mg
    if isinstance(hill, float) and hill.is_integer() and 1 <= hill <= 4:
        powered = ratio.copy()
        for _ in range(int(hill) - 1):
            powered *= ratio
    else:
        powered = ratio**hill
    return s_max - s_max / (1.0 + powered)


def csf_sod1_ng_ml(p: FloatArray, f_cns: FloatArray, base_ng_ml: FloatArray) -> FloatArray:
    """Measured CSF SOD1: a suppressible CNS-derived part plus a fixed non-suppressible part."""
    return base_ng_ml * (f_cns * p + (1.0 - f_cns))
