"""The clinical-measures script (the natural-history table of the model) still runs on the
current public API and measures every quantity it names: it is rerun by hand after model changes,
so a break would otherwise go unnoticed until then."""

import math
import re

import pytest
from benchmarks.clinical_measures import main


def test_clinical_measures_run_and_every_figure_is_a_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--replicates", "4", "--seed", "3"])
    out = capsys.readouterr().out
    for section in ("VALOR and its entrants:", "5 years untreated:", "5 years on tofersen"):
        assert section in out
    assert "nh_median_surv_nona4v: simulated median" in out
    numbers = [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", out)]
    assert len(numbers) > 50
    assert "nan" not in out.lower()
    assert all(math.isfinite(x) for x in numbers)
