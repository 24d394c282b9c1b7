"""The calibration report: parameters (prior, posterior), fit to each target, out-of-sample
predictions of left-out groups, Sobol indices, diagnostics, pairs plot and profiles."""

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from alsim.calibrate.joint import CalibrationResult
from alsim.report.calibration import (
    CHECK_HEADER,
    check_rows,
    cross_validation_section,
    g,
    sobol_section,
)
from alsim.report.html import Section, render_page
from alsim.report.pages import figure_html
from alsim.report.tables import html_table


def pairs_figure(result: CalibrationResult) -> Figure:
    """Posterior draws of every pair of free parameters (standardised prior scale: 0 is the prior
    median, +/-1.96 the prior's 95% range); prior density on the diagonal."""
    from alsim.report.figures import new_figure, style

    draws = result.chain.draws
    names = result.space.names
    d = len(names)
    grid = np.linspace(-2.6, 2.6, 101)
    with style():
        figure = new_figure(1.45 * d + 1, 1.45 * d + 1)
        axes = figure.subplots(d, d, squeeze=False)
        for i in range(d):
            for j in range(d):
                ax = axes[i, j]
                if j > i:
                    ax.set_axis_off()
                    continue
                if i == j:
                    ax.hist(draws[:, j], bins=30, range=(-2.6, 2.6), density=True, color="#0072B2")
                    ax.plot(grid, np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi), color="#888888")
                else:
                    ax.plot(draws[:, j], draws[:, i], ".", ms=1, alpha=0.3, color="#0072B2")
                    ax.set_ylim(-2.6, 2.6)
                ax.set_xlim(-2.6, 2.6)
                ax.tick_params(labelsize=6)
                if i == d - 1:
                    ax.set_xlabel(names[j], fontsize=7)
                if j == 0 and i > 0:
                    ax.set_ylabel(names[i], fontsize=7)
    return figure


def profiles_figure(result: CalibrationResult, indices: list[int]) -> Figure:
    """For each weakly identified parameter: the emulated log posterior along it, the others at
    their posterior medians, with the posterior median marked."""
    from alsim.calibrate.output import conditional_profile
    from alsim.report.figures import new_figure, style

    with style():
        figure = new_figure(4.2 * min(len(indices), 3), 3.0 * ((len(indices) + 2) // 3))
        axes = figure.subplots((len(indices) + 2) // 3, min(len(indices), 3), squeeze=False)
        for ax in axes.ravel()[len(indices) :]:
            ax.set_axis_off()
        for ax, j in zip(axes.ravel(), indices, strict=False):
            x, lp = conditional_profile(result, j)
            ax.plot(x, lp - np.max(lp), color="#0072B2")
            ax.axvline(result.parameters[j].median, color="#D55E00", label="posterior median")
            if np.all(x > 0) and x.max() / x.min() > 20:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(result.space.names[j], loc="left")
            ax.set_ylabel("log posterior (max = 0)")
            ax.set_ylim(-15, 1)
            ax.legend(loc="lower center", fontsize=7)
    return figure


def calibration_report(result: CalibrationResult, document: dict[str, Any]) -> str:
    """The whole report as one self-contained HTML page."""
    sections = []
    params = document["parameters"]
    body = [
        [
            name,
            p["unit"],
            p["prior"],
            f"{g(p['median'])} [{g(p['low'])}, {g(p['high'])}]",
            g(p["posterior_sd_over_prior_sd"]) + (" (weak)" if p["weakly_identified"] else ""),
            f"{g(p['rhat'])} / {g(p['ess'])}",
            ", ".join(p["groups"]) or "— (prior only)",
        ]
        for name, p in params.items()
    ]
    sections.append(
        Section(
            "Parameters",
            f"Joint fit to {', '.join(document['fitted_groups'])}"
            + (f"; left out: {', '.join(document['left_out'])}" if document["left_out"] else "")
            + f". Regenerate with: {document['command']}. Evidence fingerprint "
            f"{document['evidence_fingerprint'][:12]}, model fingerprint "
            f"{document['model_fingerprint'][:12]}.",
            html_table(
                (
                    "Parameter",
                    "Unit",
                    "Prior",
                    "Posterior median [95% CrI]",
                    "Posterior SD / prior SD",
                    "R-hat / ESS",
                    "Fitted to",
                ),
                body,
            ),
        )
    )
    sections.append(
        Section(
            "Published numbers beside the posterior predictive",
            "Predicted: the published statistic as the calibrated model predicts it, over the "
            "posterior (parameter uncertainty, the trial's sampling error, emulator error). "
            "Rows of a left-out group are out of sample.",
            html_table(CHECK_HEADER, check_rows(document["targets"])),
        )
    )
    sections += [
        s for s in (cross_validation_section(document), sobol_section(document)) if s is not None
    ]
    diag = document["diagnostics"]
    emu_rows = [
        [name, g(v["loo_rmse_over_sd"]), g(v["loo_coverage_95"])]
        for name, v in diag["emulator"].items()
    ]
    sections.append(
        Section(
            "Diagnostics",
            f"Ensemble sampler acceptance {g(diag['acceptance_fraction'])}; largest split "
            f"R-hat over walkers {g(diag['max_rhat'])}; smallest effective sample size "
            f"{g(diag['min_ess'])}. Emulators: leave-one-out RMSE over the output's SD across "
            "the design, and the share of design points inside their 95% leave-one-out interval.",
            html_table(("Emulated output", "LOO RMSE / SD", "LOO 95% coverage"), emu_rows),
        )
    )
    figures = [
        figure_html(
            pairs_figure(result),
            "Posterior draws on the standardised prior scale (0: prior median; ±1.96: the "
            "prior's 95% range); grey curve: the prior.",
            "pairs plot",
        )
    ]
    weak = [j for j, p in enumerate(result.parameters) if p.weakly_identified]
    if weak:
        figures.append(
            figure_html(
                profiles_figure(result, weak),
                "Weakly identified parameters (posterior SD over half the prior's): emulated log "
                "posterior along each, the others at their posterior medians (a conditional "
                "profile: where parameters trade off, as tissue half-life and EC50 do, the "
                "marginal posterior is wider than this curve).",
                "profiles",
            )
        )
    sections.append(Section("Pairs plot and profiles", "", "\n".join(figures)))
    return render_page(
        "alsim: joint calibration",
        f"seed {document['seed']}, settings {document['settings']}",
        sections,
    )
