"""The report's figures and pages: every figure renders, the forest plot shows every published
target, and the clinical, survival and early/delayed-start figures appear exactly when the data
has ADQS (ALSFRSR/SVCPP/HHDMEGA) and ADTTE (DTHPV) rows."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alsim.design import load_template
from alsim.evidence.reproduce import StudyReproduction, reproduce_study
from alsim.model import DEFAULT_PARAMETERS
from alsim.report.figures import (
    dose_response_figure,
    forest_figure,
    png_bytes,
    power_curve_figure,
)
from alsim.report.pages import StudyFigures, power_section, study_html
from alsim.report.reproduce import write_reproduction

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def phase12() -> StudyReproduction:
    return reproduce_study("phase12", n_replicates=20, seed=5)


def test_forest_plot_shows_every_published_target(phase12: StudyReproduction) -> None:
    figure = forest_figure(phase12.rows)
    labels = " ".join(t.get_text() for ax in figure.axes for t in ax.get_yticklabels())
    published = [r for r in phase12.rows if r.published is not None]
    assert published
    for row in published:
        assert f"[{row.target}]" in labels
    assert png_bytes(figure).startswith(PNG_MAGIC)


def test_dose_response_has_one_simulated_and_one_published_point_per_dose(
    phase12: StudyReproduction,
) -> None:
    figure = dose_response_figure(phase12.rows, phase12.design)
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert ticks == ["20", "40", "60", "100"]


def test_reproduction_report_embeds_all_phase12_figures(
    phase12: StudyReproduction, tmp_path: Path
) -> None:
    write_reproduction(tmp_path, [phase12], DEFAULT_PARAMETERS)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,', page)
    assert len(images) == 6  # timeline, biomarkers, dose-response, 2 safety curves, forest
    for heading in ("Design", "Biomarkers", "Dose-response", "Safety", "Simulated vs published"):
        assert f"<h3>{heading}</h3>" in page
    assert "Clinical endpoints" not in page  # Phase 1/2 has no ADQS data
    assert "ASSUMPTION" in page and "http" not in page.split("<body>")[0]


def _synthetic_ole(n_replicates: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ADQS and ADTTE rows shaped like the VALOR + extension output, values made up."""
    design = load_template("ole")
    rng = np.random.default_rng(0)
    qs, tte = [], []
    slopes = {"ALSFRSR": -0.03, "SVCPP": -0.05, "HHDMEGA": -0.001}
    for r in range(n_replicates):
        for arm in design.arm_labels:
            for i in range(4):
                usubjid = f"{arm}-{i}"
                for paramcd, slope in slopes.items():
                    base = {"ALSFRSR": 40.0, "SVCPP": 90.0, "HHDMEGA": 0.5}[paramcd]
                    for n, visit in enumerate(design.visits):
                        qs.append(
                            dict(
                                REPLICATE=r,
                                USUBJID=usubjid,
                                TRT01P=arm,
                                PARAMCD=paramcd,
                                AVISIT=visit.name,
                                AVISITN=n,
                                ADY=visit.day,
                                AVAL=base + slope * visit.day + rng.normal(0, 0.1) * (n > 0),
                                BASE=base,
                            )
                        )
                tte.append(
                    dict(
                        REPLICATE=r,
                        USUBJID=usubjid,
                        TRT01P=arm,
                        PARAMCD="DTHPV",
                        AVAL=float(rng.uniform(100, 1093)),
                        CNSR=int(rng.integers(0, 2)),
                    )
                )
    return pd.DataFrame(qs), pd.DataFrame(tte)


def test_clinical_survival_and_early_delayed_figures_appear_with_adqs_and_adtte() -> None:
    adqs, adtte = _synthetic_ole()
    study = StudyFigures.from_adam(load_template("ole"), [adqs], adtte, seed=1)
    assert study.n_replicates == 3 and not study.km.empty
    page = study_html(study)
    for heading in (
        "Clinical endpoints",
        "Death or permanent ventilation",
        "Early vs delayed start",
    ):
        assert f"<h3>{heading}</h3>" in page
    assert "Biomarkers" not in page  # no ADLB rows given


def test_without_adtte_there_is_no_survival_figure() -> None:
    adqs, _ = _synthetic_ole(1)
    page = study_html(StudyFigures.from_adam(load_template("ole"), [adqs]))
    assert "Clinical endpoints" in page and "Death or permanent ventilation" not in page


def test_power_curve_figure_takes_a_tidy_frame() -> None:
    frame = pd.DataFrame(
        {
            "design_point": [60, 60, 108, 108, 150, 150],
            "endpoint": ["ALSFRSR", "PLNFL"] * 3,
            "power": [0.3, 0.7, 0.55, 0.93, 0.72, 0.99],
            "mc_se": [0.015, 0.014, 0.016, 0.008, 0.014, 0.003],
        }
    )
    figure = power_curve_figure(frame, x_label="Patients randomised")
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["ALSFRSR", "PLNFL"]
    assert "<img" in power_section(frame).content_html
    with pytest.raises(ValueError, match="mc_se"):
        power_curve_figure(frame.drop(columns="mc_se"))


def test_published_gmr_sits_on_the_geometric_trajectory_as_percent_change() -> None:
    from alsim.evidence.compare import ComparisonRow
    from alsim.report.figures import trajectory_figure

    summary = pd.DataFrame(
        {
            "PARAMCD": "PLNFL",
            "STAT": "geo_mean_pct_change",
            "ARM": ["PLACEBO", "PLACEBO", "TOFERSEN 100 MG", "TOFERSEN 100 MG"],
            "AVISITN": [0, 1, 0, 1],
            "AVISIT": ["BASELINE", "WEEK 28", "BASELINE", "WEEK 28"],
            "ADY": [1, 197, 1, 197],
            "MEDIAN": [0.0, 10.0, 0.0, -50.0],
            "LOW": [0.0, 5.0, 0.0, -55.0],
            "HIGH": [0.0, 15.0, 0.0, -45.0],
            "N_REPLICATES": 10,
        }
    )
    row = ComparisonRow(
        study="valor",
        target="x",
        paramcd="PLNFL",
        visit="WEEK 28",
        arm="TOFERSEN 100 MG",
        quantity="gmr_to_baseline",
        sim_median=0.5,
        sim_low=0.45,
        sim_high=0.55,
        published=0.45,
        published_ci_low=0.40,
        published_ci_high=0.51,
        criterion="",
        inside=True,
        source="",
        verification_tier="",
    )
    figure = trajectory_figure(summary, ["PLNFL"], rows=[row])
    diamonds = [line for line in figure.axes[0].lines if line.get_marker() == "D"]
    assert len(diamonds) == 1
    assert diamonds[0].get_ydata()[0] == pytest.approx(-55.0)
