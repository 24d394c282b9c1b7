"""A report a trialist can quote: like with like (every comparison at the published timepoint,
every miss shown as a miss), numbers at the precision of the evidence, figures whose axes,
labels and captions say what they show."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from alsim.campaign.grid import set_duration
from alsim.design import load_template
from alsim.evidence.compare import QUANTITY_LABELS, ComparisonRow
from alsim.evidence.reproduce import StudyReproduction
from alsim.evidence.safety import OLE_SERIOUS_RECORD, safety_rows
from alsim.model import DEFAULT_PARAMETERS
from alsim.report.figures import (
    _forest_unit,
    design_timeline_figure,
    forest_figure,
    forest_labels,
    km_figure,
)
from alsim.report.pages import StudyFigures, study_html
from alsim.report.reproduce import NATURAL_HISTORY_TITLE, section_rows, write_reproduction
from alsim.report.tables import comparison_cells, published_text, simulated_text
from alsim.simulate import simulate_trial


def row(**changes: object) -> ComparisonRow:
    base = ComparisonRow(
        study="valor",
        target="valor_plasma_nfl_ratio_itt",
        paramcd="PLNFL",
        visit="WEEK 28",
        arm="TOFERSEN 100 MG",
        quantity="gmr_ratio",
        sim_median=0.4012,
        sim_low=0.3561,
        sim_high=0.4249,
        published=0.4,
        published_ci_low=0.33,
        published_ci_high=0.49,
        criterion="simulated median inside published 95% CI",
        inside=True,
        source="Miller 2022",
        verification_tier="primary",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "simulated", "published"),
    [
        ({}, "0.40 [0.36, 0.42]", "0.40 [0.33, 0.49]"),
        (
            {
                "quantity": "gmr_to_baseline",
                "sim_median": 0.6791,
                "sim_low": 0.66,
                "sim_high": 0.70,
                "published": 0.65,
                "published_ci_low": None,
                "published_ci_high": None,
            },
            "0.68 [0.66, 0.70]",
            "0.65 (no CI)",
        ),
        (
            {
                "quantity": "ancova_diff",
                "paramcd": "HHDMEGA",
                "sim_median": 0.0183,
                "sim_low": -0.0552,
                "sim_high": 0.0781,
                "published": None,
                "published_ci_low": None,
                "published_ci_high": None,
            },
            "0.018 [-0.055, 0.078]",
            "prediction",
        ),
        (
            {
                "quantity": "pct_change_diff",
                "sim_median": -30.14,
                "sim_low": -40.8,
                "sim_high": -14.66,
                "published": -33.0,
                "published_ci_low": -47.0,
                "published_ci_high": -16.0,
            },
            "-30.1 [-40.8, -14.7]",
            "-33 [-47, -16]",
        ),
        (
            {
                "quantity": "ancova_mi_lsmean_change",
                "sim_median": -6.21,
                "sim_low": -10.0,
                "sim_high": -3.93,
                "published": -6.98,
                "published_ci_low": None,
                "published_ci_high": None,
            },
            "-6.2 [-10.0, -3.9]",
            "-6.98 (no CI)",
        ),
        (
            {
                "quantity": "joint_rank_p",
                "sim_median": 0.4567,
                "sim_low": 0.00791,
                "sim_high": 0.8,
                "published": 0.97,
                "published_ci_low": None,
                "published_ci_high": None,
            },
            "0.46 [0.0079, 0.8]",
            "0.97 (no CI)",
        ),
        (
            {
                "quantity": "extension_entered_n",
                "sim_median": 95.0,
                "sim_low": 89.0,
                "sim_high": 100.0,
                "published": 95.0,
                "published_ci_low": None,
                "published_ci_high": None,
            },
            "95 [89, 100]",
            "95 (no CI)",
        ),
    ],
)
def test_numbers_at_the_precision_of_the_evidence(changes, simulated, published) -> None:  # type: ignore[no-untyped-def]
    """Ratios to two decimals beside the published 0.40 [0.33, 0.49] (not 0.4 [0.4, 0.4]);
    small differences (HHD megascore) to two significant digits (not 0.0 [-0.1, 0.1]);
    published numbers with the digits the evidence gives, none invented."""
    r = row(**changes)
    assert simulated_text(r) == simulated
    assert published_text(r) == published
    assert comparison_cells(r)[3:5] == (simulated, published)


def test_no_forest_axis_is_labelled_value() -> None:
    for quantity in QUANTITY_LABELS:
        assert _forest_unit("ALSFRSR", quantity) != "value", quantity


def test_forest_row_labels_are_unique() -> None:
    rows = [row(), row(), row(arm="PLACEBO")]
    labels = forest_labels(rows)
    assert len(set(labels)) == len(labels)
    figure = forest_figure(rows)
    shown = [t.get_text() for ax in figure.axes for t in ax.get_yticklabels()]
    assert len(set(shown)) == len(shown) == 3


def test_forest_titles_wrap_inside_the_figure() -> None:
    long_row = row(quantity="ancova_mi_lsmean_change", paramcd="ALSFRSR")
    figure = forest_figure([long_row])
    titles = [ax._left_title for ax in figure.axes if ax._left_title.get_text()]
    assert titles and all(t.get_wrap() for t in titles)  # wrapped to the figure, never cut


def test_placebo_injections_are_on_the_dosing_timeline() -> None:
    design = load_template("valor")
    figure = design_timeline_figure(design)
    ax = figure.axes[0]
    rows = {}
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets):
            rows.setdefault(float(offsets[0][1]), []).append(len(offsets))
    n_doses = len(design.regimen.dose_days)
    assert len(rows) == len(design.arms)  # one row of injections per arm, placebo included
    assert all(n_doses in counts for counts in rows.values())
    legend = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert "placebo injection" in legend and "tofersen dose" in legend


def test_a_rare_event_curve_with_median_zero_can_be_read() -> None:
    days = np.linspace(0, 200, 20)
    km = pd.concat(
        [
            pd.DataFrame(
                {
                    "ARM": "PLACEBO",
                    "DAY": days,
                    "MEDIAN": 1.0,
                    "LOW": 0.96,
                    "HIGH": 1.0,
                    "N_REPLICATES": 50,
                }
            ),
            pd.DataFrame(
                {
                    "ARM": "TOFERSEN 100 MG",
                    "DAY": days,
                    "MEDIAN": 1 - days / 4000,
                    "LOW": 1 - days / 2000,
                    "HIGH": 1.0,
                    "N_REPLICATES": 50,
                }
            ),
        ]
    )
    figure = km_figure(km, cumulative=True, ylabel="Cumulative share")
    ax = figure.axes[0]
    low, high = ax.get_ylim()
    assert low < 0 < high <= 0.2  # zoomed to the band, zero lifted off the axis
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "PLACEBO (median 0: most trials had none)" in labels


@pytest.fixture(scope="module")
def extension() -> tuple[StudyFigures, list[ComparisonRow]]:
    design = set_duration(load_template("ole"), 60)  # the extension, shortened to week 60
    sim = simulate_trial(design, n_replicates=12, seed=4)
    rows = safety_rows("ole", sim)
    return StudyFigures.from_simulation(sim, rows), rows


def test_extension_safety_compares_at_the_published_timepoint(
    extension: tuple[StudyFigures, list[ComparisonRow]],
) -> None:
    """The VALOR rates are 28-week rates: the extension's simulated incidences beside them are
    counted to week 28, not over the whole follow-up; the VALOR + extension share, whose data cut
    is not stated, says so and is a miss or a hit, never a blank."""
    study, rows = extension
    dated = [r for r in rows if r.target != OLE_SERIOUS_RECORD]
    assert dated and all(r.visit == "WEEK 28" for r in dated)
    unstated = next(r for r in rows if r.target == OLE_SERIOUS_RECORD)
    assert "timepoint not stated" in unstated.visit and "states no timepoint" in unstated.criterion
    assert unstated.inside is (unstated.sim_low <= unstated.published <= unstated.sim_high)  # type: ignore[operator]
    assert comparison_cells(unstated)[5] in ("yes", "NO")
    page = study_html(study)
    follow_up, beside = page.split("<h4>Beside the published rates, at the published timepoint")
    follow_up = follow_up[follow_up.index("<h3>Safety</h3>") :]
    assert "published" not in follow_up.split("<table")[1]  # whole follow-up: no published rate
    assert "WEEK 28" in beside and "timepoint not stated" in beside
    back_pain = next(
        r for r in rows if r.target == "valor_ae_back_pain" and r.quantity == "ae_incidence"
    )
    full = study.ae_incidence[
        (study.ae_incidence["AEDECOD"] == "Back pain")
        & (study.ae_incidence["ARM"] == back_pain.arm)
    ]["MEDIAN"].iloc[0]
    assert back_pain.sim_median <= full


def test_natural_history_rows_get_their_own_section(tmp_path) -> None:  # type: ignore[no-untyped-def]
    own = row()
    natural = row(
        study="natural_history",
        target="nh_median_surv_all",
        paramcd="DTHPV",
        visit="ONSET",
        arm="ALL",
        quantity="nh_median_survival",
        sim_median=3.6,
        sim_low=2.9,
        sim_high=4.3,
        published=2.7,
        published_ci_low=None,
        published_ci_high=None,
        inside=False,
    )
    result = StudyReproduction(
        study="valor",
        design=load_template("valor"),
        rows=(own, natural),
        seed=1,
        n_replicates=2,
        seconds=0.0,
    )
    sections = section_rows(result)
    assert [title for title, _ in sections] == [result.design.title, NATURAL_HISTORY_TITLE]
    assert sections[0][1] == (own,) and sections[1][1] == (natural,)
    write_reproduction(tmp_path, [result], DEFAULT_PARAMETERS)
    page = (tmp_path / "report.html").read_text()
    study_part, natural_part = page.split(f">{NATURAL_HISTORY_TITLE}</h2>")
    assert "nh_median_surv_all" not in study_part.split("<h2")[-1]
    assert "nh_median_surv_all" in natural_part and "years from onset" not in study_part
    markdown = (tmp_path / "comparison.md").read_text()
    assert f"### {NATURAL_HISTORY_TITLE}" in markdown
    assert math.isfinite(natural.sim_median)
