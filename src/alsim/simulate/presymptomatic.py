"""Simulate prevention trials in presymptomatic carriers: the monitoring run-in (Part A), the
biomarker trigger, randomisation at the trigger, and the randomised part (Part B) to the event.

Per replicate, carriers are drawn in batches (`alsim.population.carriers`) and monitored on the
run-in schedule with the untreated NfL course in closed form and the assay's noise. A carrier is
randomised when a sample meets the trigger rule (confirmed if the design says so) before their
phenoconversion; carriers found manifest at the randomisation visit, who convert during the
run-in, drop out or reach its end without a trigger are not. Triggered carriers fill the
randomised part's places in order, in permuted blocks of the design's allocation ratio (within
the variant-class strata when the design stratifies), until every place is filled; if the design
names a Part A cohort size, the same stream also gives the number that cohort would randomise.

Part B Day 1 is the trigger (or confirming) sample's day; that sample is the baseline. Every
randomised patient is integrated with the model solver (SOD1 lowering and the effective disease
time Z, `alsim.model.compiled.solve`); placebo patients in closed form. Phenoconversion is the day Z
reaches the disease time the carrier had left at randomisation; it is found at the next event
assessment. Follow-up ends at withdrawal, at the last visit, or at the event, when the patient
moves to open-label rescue (not simulated further).

Every random number of replicate r comes from ``SeedSequence(seed, spawn_key=(r,))`` in a fixed
order (slot permutations, carrier batches, Part B withdrawals and noise); adverse events from
their own stream, as in `alsim.simulate.trial`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from math import gcd

import numpy as np
from numpy.typing import NDArray

from alsim.design.presymptomatic import RunIn, TriggerRule, event_endpoint
from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError
from alsim.model.adverse_events import AdverseEventTerm
from alsim.model.compiled import solve
from alsim.model.parameters import ParameterSet
from alsim.model.presymptomatic import (
    integrate_nfl,
    nfl_target,
    prodromal_fraction,
    untreated_nfl,
)
from alsim.model.progression import event_time_days
from alsim.model.system import DoseSchedule
from alsim.population.carriers import Carriers, sample_carriers
from alsim.simulate.adverse_events import truncate_follow_up
from alsim.simulate.progression import SOLVE_CHUNK_PATIENTS
from alsim.simulate.trial import (
    DAYS_PER_YEAR,
    RESIDUAL_SD_PARAMETER,
    TrialSimulation,
    arm_dose_amounts,
    replicate_rng,
    with_adverse_events,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MIN_CARRIER_BATCH = 512
MAX_CARRIER_BATCH = 20_000
MAX_CARRIER_ROUNDS = 200
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
TRIAL_METRICS = {
    "projected_randomised": "Part B size from the Part A cohort (run_in.n_carriers)",
    "trigger_rate_per_year": "carriers triggering per carrier-year of run-in",
    "screened_per_randomised": "carriers screened per randomised patient",
    "missed_by_trigger": "share of run-in phenoconversions not preceded by a trigger",
    "trigger_to_onset_months": "median months from trigger to phenoconversion, untreated",
    "event_proportion_control": "proportion with the event by the landmark, control arm",
    "event_proportion_treated": "proportion with the event by the landmark, treated arm",
}
FUNNEL_FIELDS = (
    "n_screened",
    "n_eligible",
    "n_triggered",
    "n_converted_in_run_in",
    "n_onset_in_run_in",
    "carrier_years",
    "projected_randomised",
)


@dataclass(frozen=True, slots=True)
class CarrierRecord:
    """What a run-in design adds to a `TrialSimulation`.

    Per randomised patient (replicate, patient): `trigger_day` (days from Part A entry to Day 1),
    `entry_age_years`, `onset_day` (study day of phenoconversion; inf if after the last visit),
    `untreated_onset_day` (the study day it would have come without drug: the natural history
    of the same carrier), `event_day` (study day it was found, inf if not within follow-up),
    `censor_day` (last assessment without the event), the presymptomatic and symptomatic NfL
    levels and the prodromal e-folding time; run-in samples (replicate, patient, sample) as study
    days before Day 1 (`run_in_day`, negative) and observed NfL (`run_in_nfl`), NaN where none.
    `funnel` holds per-replicate counts over the carriers monitored until the randomised part was
    full (see `FUNNEL_FIELDS`): screened, eligible (screening NfL below the trigger level),
    triggered (randomised, or found manifest at randomisation), converted in the run-in without
    a trigger, with onset during monitoring at all, carrier-years monitored, and the number a
    Part A cohort of `run_in.n_carriers` would randomise (NaN without it).
    """

    trigger_day: FloatArray
    entry_age_years: FloatArray
    onset_day: FloatArray
    untreated_onset_day: FloatArray
    event_day: FloatArray
    censor_day: FloatArray
    nfl_base_pg_ml: FloatArray
    nfl_onset_pg_ml: FloatArray
    prodromal_scale_days: FloatArray
    run_in_day: FloatArray
    run_in_nfl: FloatArray
    funnel: dict[str, FloatArray]

    @property
    def event_observed(self) -> BoolArray:
        """(replicate, patient): whether the event was found within follow-up."""
        found: BoolArray = np.isfinite(self.event_day)
        return found

    @property
    def event_or_censor_day(self) -> FloatArray:
        """(replicate, patient): the study day of the event, or of the last negative assessment."""
        out: FloatArray = np.where(self.event_observed, self.event_day, self.censor_day)
        return out

    @classmethod
    def concatenate(cls, records: Sequence["CarrierRecord"]) -> "CarrierRecord":
        """Records of consecutive replicate chunks joined along the replicate axis."""
        first = records[0]
        return cls(
            **{
                f.name: np.concatenate([getattr(r, f.name) for r in records])
                for f in fields(cls)
                if f.name != "funnel"
            },
            funnel={k: np.concatenate([r.funnel[k] for r in records]) for k in first.funnel},
        )

    def landmark_status(self, landmark_day: int) -> FloatArray:
        """(replicate, patient): 1 = event found by `landmark_day`, 0 = assessed on or after it
        without the event (found later, or never), NaN = unknown (withdrawn before it)."""
        by = self.event_day <= landmark_day
        clear = ~by & (self.event_or_censor_day >= landmark_day)
        out: FloatArray = np.where(by, 1.0, np.where(clear, 0.0, np.nan))
        return out


@dataclass(frozen=True, slots=True)
class RunInOutcome:
    """Monitoring of one batch of carriers, arrays (carrier,) unless said otherwise.

    `sample_t_days` (sample,) are days since entry; `observed` (carrier, sample) the observed
    NfL, NaN where the carrier was not sampled; `fire_day` the day the trigger rule was met
    (inf: never while monitored); `randomised` whether that came before phenoconversion;
    `converted` whether phenoconversion came first while monitored; `onset_in_window` whether
    onset fell while the carrier was monitored (with or without a trigger before it);
    `monitored_days` the time at risk of a trigger.
    """

    eligible: BoolArray
    sample_t_days: FloatArray
    observed: FloatArray
    true_nfl: FloatArray
    fire_day: FloatArray
    randomised: BoolArray
    converted: BoolArray
    onset_in_window: BoolArray
    monitored_days: FloatArray


def run_in_sample_days(run_in: RunIn) -> FloatArray:
    """Days since entry of the scheduled run-in samples (the first is the screening sample)."""
    return np.arange(0, run_in.max_days + 1, run_in.sampling_interval_days, dtype=np.float64)


_ROUNDING = 1e-12


def trigger_fires(observed: FloatArray, trigger: TriggerRule) -> BoolArray:
    """(carrier, sample): samples at which the rule is met, confirmation included; the carrier's
    baseline is the mean of its first `trigger.baseline_samples` samples, which never fire."""
    k = trigger.baseline_samples
    baseline = np.nanmean(observed[:, :k], axis=1)
    with np.errstate(invalid="ignore"):
        rise = observed - baseline[:, None]
        # a mean of equal samples can differ from them in the last bit: such rounding is no rise
        rounding = _ROUNDING * np.abs(baseline)[:, None]
        meets: BoolArray = (observed >= trigger.min_level_pg_ml) & (rise >= trigger.min_rise_pg_ml)
        if trigger.min_rise_pg_ml > 0:
            meets &= rise > rounding
    meets[:, :k] = False
    if not trigger.confirm:
        return meets
    confirmed: BoolArray = np.zeros_like(meets)
    confirmed[:, 1:] = meets[:, 1:] & meets[:, :-1]
    return confirmed


def monitor_run_in(
    carriers: Carriers,
    run_in: RunIn,
    trigger: TriggerRule,
    rng: np.random.Generator,
) -> RunInOutcome:
    """Sample every carrier on the run-in schedule and apply the trigger rule (no drug)."""
    n = carriers.n_carriers
    t = run_in_sample_days(run_in)
    if run_in.dropout_per_year > 0:
        dropout = rng.exponential(DAYS_PER_YEAR / run_in.dropout_per_year, n)
    else:
        dropout = np.full(n, np.inf)
    z = rng.standard_normal((n, t.size))
    p = carriers.parameters
    true = untreated_nfl(
        t[None, :],
        carriers.onset_days[:, None],
        carriers.prodromal_scale_days[:, None],
        carriers.nfl_base_pg_ml[:, None],
        carriers.nfl_onset_pg_ml[:, None],
        np.log(2.0) / p["t_half_nfl_days"][:, None],
    )
    observed = true * np.exp(p["sigma_plasma_nfl"][:, None] * z)
    onset = carriers.onset_days
    # sampled while in the study, up to and including the day onset would be found
    sampled = (t[None, :] < dropout[:, None]) & (t[None, :] <= onset[:, None])
    sampled[:, 0] = True
    observed = np.where(sampled, observed, np.nan)
    # evidence atlas_eligibility: NfL below the trigger level at entry
    eligible = (observed[:, 0] < trigger.min_level_pg_ml) | (trigger.min_level_pg_ml <= 0)
    fires = trigger_fires(observed, trigger) & eligible[:, None]
    any_fire = fires.any(axis=1)
    fire_day = np.where(any_fire, t[np.argmax(fires, axis=1)], np.inf)
    end = np.minimum(np.minimum(dropout, float(run_in.max_days)), fire_day)
    randomised = eligible & (fire_day < onset)
    onset_in_window = eligible & (onset <= np.minimum(dropout, float(run_in.max_days)))
    converted = eligible & (onset <= end) & ~randomised
    return RunInOutcome(
        eligible=np.asarray(eligible, dtype=bool),
        sample_t_days=t,
        observed=observed,
        true_nfl=true,
        fire_day=fire_day,
        randomised=randomised,
        converted=converted,
        onset_in_window=onset_in_window,
        monitored_days=np.where(eligible, np.minimum(end, onset), 0.0),
    )


def block_slots(design: TrialDesign, rng: np.random.Generator) -> list[IntArray]:
    """Per randomisation group, the design's places (patient indices, ordered group then arm)
    in the order triggered carriers fill them: permuted blocks of the allocation ratio."""
    arm_index, group_index = design.allocation()
    orders: list[IntArray] = []
    for g, group in enumerate(design.randomization.groups):
        places = np.flatnonzero(group_index == g)
        counts = [int(c) for c in group.n_per_arm.values() if c > 0]
        n_blocks = 0
        for c in counts:
            n_blocks = gcd(n_blocks, c)
        by_arm = [places[arm_index[places] == a] for a in np.unique(arm_index[places])]
        blocks = [
            np.concatenate([slots.reshape(n_blocks, -1)[b] for slots in by_arm])
            for b in range(n_blocks)
        ]
        orders.append(np.concatenate([rng.permutation(block) for block in blocks]))
    return orders


def _stratum_of(design: TrialDesign, carriers: Carriers) -> IntArray:
    """Randomisation group of each carrier: by variant class when stratified, else group 0."""
    if design.randomization.unit != "stratum":
        return np.zeros(carriers.n_carriers, dtype=np.int64)
    names = [g.name for g in design.randomization.groups]
    label = np.where(carriers.a4v, "A4V", "NON-A4V")
    index = {name: i for i, name in enumerate(names)}
    return np.array([index.get(str(v), -1) for v in label], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Filled:
    carriers: Carriers
    fire_day: FloatArray
    trigger_true_nfl: FloatArray
    trigger_observed_nfl: FloatArray
    run_in_day: FloatArray
    run_in_nfl: FloatArray
    funnel: dict[str, float]


def fill_randomised_part(
    design: TrialDesign, parameters: ParameterSet, rng: np.random.Generator
) -> _Filled:
    """Monitor carriers batch by batch until every place of the randomised part is filled."""
    assert design.run_in is not None and design.trigger is not None
    run_in, trigger = design.run_in, design.trigger
    orders = block_slots(design, rng)
    n_places = design.n_patients
    slot_carrier: list[Carriers | None] = [None] * n_places
    filled = [0] * len(orders)
    n_samples = run_in_sample_days(run_in).size
    fire = np.full(n_places, np.nan)
    true_at = np.full(n_places, np.nan)
    obs_at = np.full(n_places, np.nan)
    run_in_day = np.full((n_places, n_samples), np.nan)
    run_in_nfl = np.full((n_places, n_samples), np.nan)
    funnel = dict.fromkeys(FUNNEL_FIELDS, 0.0)
    projection_left = run_in.n_carriers or 0
    projected = 0.0
    batch = min(max(MIN_CARRIER_BATCH, 20 * n_places, run_in.n_carriers or 0), MAX_CARRIER_BATCH)
    done = False
    for _ in range(MAX_CARRIER_ROUNDS):
        carriers = sample_carriers(design.population, parameters, batch, rng)
        outcome = monitor_run_in(carriers, run_in, trigger, rng)
        if projection_left > 0:
            cohort = np.flatnonzero(outcome.eligible)[:projection_left]
            projected += float(outcome.randomised[cohort].sum())
            projection_left -= cohort.size
        if done:
            if projection_left <= 0:
                break
            continue
        stratum = _stratum_of(design, carriers)
        last_used = -1
        for i in np.flatnonzero(outcome.randomised & (stratum >= 0)):
            g = int(stratum[i])
            if filled[g] == orders[g].size:
                continue
            place = int(orders[g][filled[g]])
            filled[g] += 1
            last_used = int(i)
            slot_carrier[place] = carriers.take(np.array([i]))
            fire[place] = outcome.fire_day[i]
            k = int(np.searchsorted(outcome.sample_t_days, outcome.fire_day[i]))
            true_at[place] = outcome.true_nfl[i, k]
            obs_at[place] = outcome.observed[i, k]
            run_in_day[place, :k] = outcome.sample_t_days[:k] - outcome.fire_day[i]
            run_in_nfl[place, :k] = outcome.observed[i, :k]
        done = all(f == o.size for f, o in zip(filled, orders, strict=True))
        used = slice(None) if not done else slice(0, last_used + 1)
        eligible = outcome.eligible[used]
        funnel["n_screened"] += eligible.size
        funnel["n_eligible"] += float(eligible.sum())
        funnel["n_triggered"] += float(np.isfinite(outcome.fire_day[used]).sum())
        funnel["n_converted_in_run_in"] += float(outcome.converted[used].sum())
        funnel["n_onset_in_run_in"] += float(outcome.onset_in_window[used].sum())
        funnel["carrier_years"] += float(outcome.monitored_days[used].sum()) / DAYS_PER_YEAR
        if done and projection_left <= 0:
            break
    else:
        raise AlsimError(
            f"{design.study_id}: the randomised part could not be filled from "
            f"{MAX_CARRIER_ROUNDS} batches of {batch} carriers; the trigger rule fires too "
            "rarely (lower trigger.min_level_pg_ml or min_rise_pg_ml, or lengthen run_in.max_days)"
        )
    funnel["projected_randomised"] = projected if run_in.n_carriers else float("nan")
    chosen = [c for c in slot_carrier if c is not None]
    return _Filled(
        carriers=Carriers.concatenate(chosen),
        fire_day=fire,
        trigger_true_nfl=true_at,
        trigger_observed_nfl=obs_at,
        run_in_day=run_in_day,
        run_in_nfl=run_in_nfl,
        funnel=funnel,
    )


def _per_replicate(
    parameters: ParameterSet | Sequence[ParameterSet], n_replicates: int
) -> list[ParameterSet]:
    if isinstance(parameters, ParameterSet):
        return [parameters] * n_replicates
    sets = list(parameters)
    if len(sets) != n_replicates:
        raise AlsimError(
            f"one parameter set per replicate is needed: got {len(sets)} for {n_replicates}"
        )
    return sets


def disease_course(
    individual: dict[str, FloatArray],
    dose_t_days: FloatArray,
    amount_mg: FloatArray,
    t_days: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """SOD1 protein ``P`` (relative to no drug) and effective disease time ``Z`` on `t_days` for
    a batch (patient,) of randomised carriers; patients without any dose are done in closed form
    (``P = 1``, ``Z = t``)."""
    n = amount_mg.shape[0]
    sod1 = np.ones((n, t_days.size))
    clock = np.broadcast_to(t_days, (n, t_days.size)).copy()
    dosed = np.flatnonzero(amount_mg.sum(axis=1) > 0)
    for start in range(0, dosed.size, SOLVE_CHUNK_PATIENTS):
        rows = dosed[start : start + SOLVE_CHUNK_PATIENTS]
        trajectories = solve(
            {k: v[rows] for k, v in individual.items()},
            DoseSchedule(t_days=dose_t_days, amount_mg=amount_mg[rows]),
            t_days,
        )
        sod1[rows] = trajectories.sod1_protein
        clock[rows] = trajectories.effect_time_days
    return sod1, clock


def simulate_carrier_trial(
    design: TrialDesign,
    *,
    n_replicates: int,
    seed: int,
    parameters: ParameterSet | Sequence[ParameterSet],
    first_replicate: int = 0,
    adverse_event_terms: Sequence[AdverseEventTerm] = (),
) -> TrialSimulation:
    """Replicates of a run-in design (see the module docstring); `parameters` is one set for
    every replicate or one per replicate (parameter uncertainty)."""
    assert design.run_in is not None and design.trigger is not None
    event = event_endpoint(design)
    sets = _per_replicate(parameters, n_replicates)
    arm_index, group_index = design.allocation()
    n_patients = arm_index.size
    visit_days = np.array([v.day for v in design.visits], dtype=np.int64)
    replicates = np.arange(first_replicate, first_replicate + n_replicates, dtype=np.int64)
    endpoints = design.endpoints
    fills: list[_Filled] = []
    dropout: list[FloatArray] = []
    noise: list[FloatArray] = []
    for r, parameter_set in zip(replicates, sets, strict=True):
        rng = replicate_rng(seed, int(r))
        fills.append(fill_randomised_part(design, parameter_set, rng))
        if design.dropout_per_year > 0:
            mean_days = DAYS_PER_YEAR / design.dropout_per_year
            dropout.append(1.0 + np.asarray(rng.exponential(mean_days, n_patients), np.float64))
        else:
            dropout.append(np.full(n_patients, np.inf))
        noise.append(rng.standard_normal((len(endpoints), n_patients, visit_days.size)))

    def stack(get: str) -> FloatArray:
        return np.stack([getattr(f.carriers, get) for f in fills])

    individual = {
        name: np.stack([f.carriers.parameters[name] for f in fills])
        for name in fills[0].carriers.parameters
    }
    fire_day = np.stack([f.fire_day for f in fills])
    entry_age = stack("age_years")
    remaining = stack("onset_days") - fire_day
    scale = stack("prodromal_scale_days")
    nfl_base = stack("nfl_base_pg_ml")
    nfl_onset = stack("nfl_onset_pg_ml")
    dropout_day = np.stack(dropout)
    z = np.stack(noise)

    dose_days = np.array(design.regimen.dose_days, dtype=np.float64)
    amount_mg, dropout_day, adverse_events = with_adverse_events(
        adverse_event_terms,
        dose_days,
        arm_dose_amounts(design, arm_index, dose_days, dropout_day),
        dropout_day,
        float(visit_days[-1]),
        seed=seed,
        replicates=replicates,
    )

    grid = np.arange(0.0, float(visit_days[-1]))  # daily, Day 1 (t = 0) to the last visit
    flat = {k: v.reshape(-1) for k, v in individual.items()}
    sod1, clock = disease_course(flat, dose_days - 1.0, amount_mg.reshape(-1, dose_days.size), grid)
    injury = np.maximum(sod1, 0.0) ** flat["gamma_injury"][:, None]
    left = remaining.reshape(-1)
    onset_t = event_time_days(grid, clock, left)
    target = nfl_target(
        nfl_base.reshape(-1)[:, None],
        nfl_onset.reshape(-1)[:, None],
        prodromal_fraction(left[:, None] - clock, scale.reshape(-1)[:, None]),
        injury,
    )
    k_nfl = np.log(2.0) / flat["t_half_nfl_days"]
    start = np.stack([f.trigger_true_nfl for f in fills]).reshape(-1)
    nfl = integrate_nfl(grid, target, start, k_nfl)
    shape = (n_replicates, n_patients)
    onset_day = (1.0 + onset_t).reshape(shape)

    assessments = np.array(event.assessment_days(int(visit_days[-1])), dtype=np.float64)
    end_day = np.minimum(dropout_day, float(visit_days[-1]))
    k = np.searchsorted(assessments, onset_day, side="left")
    found_on = np.where(
        k < assessments.size, assessments[np.minimum(k, assessments.size - 1)], np.inf
    )
    event_day = np.where(found_on <= end_day, found_on, np.inf)
    last_negative = assessments[
        np.maximum(np.searchsorted(assessments, end_day, side="right") - 1, 0)
    ]
    censor_day = np.where(np.isfinite(event_day), np.nan, last_negative)
    follow_end = np.where(np.isfinite(event_day), event_day, end_day)

    visit_t = (visit_days - 1).astype(np.int64)
    plasma = nfl[:, visit_t].reshape(*shape, -1)
    p_visit = sod1[:, visit_t].reshape(*shape, -1)
    f_cns = individual["f_cns"][:, :, None]
    true_values = {
        "CSFSOD1": individual["csf_sod1_base_ng_ml"][:, :, None] * (f_cns * p_visit + 1.0 - f_cns),
        "PLNFL": plasma,
        "CSFNFL": plasma * individual["csf_plasma_nfl_ratio"][:, :, None],
    }
    observed_visit = visit_days[None, None, :] <= follow_end[:, :, None]
    observed: dict[str, FloatArray] = {}
    for j, endpoint in enumerate(endpoints):
        if endpoint not in RESIDUAL_SD_PARAMETER:
            continue
        sigma = individual[RESIDUAL_SD_PARAMETER[endpoint]][:, :, None]
        noisy = true_values[endpoint] * np.exp(sigma * z[:, j])
        if endpoint == design.trigger.biomarker:
            noisy[:, :, 0] = np.stack([f.trigger_observed_nfl for f in fills])
        observed[endpoint] = np.where(observed_visit, noisy, np.nan)

    record = CarrierRecord(
        trigger_day=fire_day,
        entry_age_years=entry_age,
        onset_day=np.where(onset_day <= visit_days[-1], onset_day, np.inf),
        untreated_onset_day=1.0 + remaining,
        event_day=event_day,
        censor_day=censor_day,
        nfl_base_pg_ml=nfl_base,
        nfl_onset_pg_ml=nfl_onset,
        prodromal_scale_days=scale,
        run_in_day=np.stack([f.run_in_day for f in fills]),
        run_in_nfl=np.stack([f.run_in_nfl for f in fills]),
        funnel={k: np.array([f.funnel[k] for f in fills]) for k in FUNNEL_FIELDS},
    )
    return TrialSimulation(
        design=design,
        seed=seed,
        replicate=replicates,
        arm_index=arm_index,
        group_index=group_index,
        age_years=entry_age + fire_day / DAYS_PER_YEAR,
        male=stack("male").astype(bool),
        a4v=stack("a4v").astype(bool),
        parameters={
            **individual,
            "carrier_nfl_base_pg_ml": nfl_base,
            "plasma_nfl_onset_pg_ml": nfl_onset,
            "prodromal_scale_days": scale,
        },
        dropout_day=dropout_day,
        visit_days=visit_days,
        true_values={k: true_values[k] for k in endpoints if k in true_values},
        observed=observed,
        adverse_events=truncate_follow_up(adverse_events, follow_end),
        parameter_set=sets[0],
        carriers=record,
    )


def carrier_record(sim: TrialSimulation) -> CarrierRecord:
    """The run-in part of `sim`, or an error for designs without a run-in."""
    if sim.carriers is None:
        raise AlsimError(f"{sim.design.study_id} has no run-in: no phenoconversion to analyse")
    return sim.carriers


def trial_metrics(sim: TrialSimulation) -> dict[str, FloatArray]:
    """Per-replicate metrics of a run-in trial (keys and meaning in `TRIAL_METRICS`)."""
    record = carrier_record(sim)
    design = sim.design
    funnel = record.funnel
    status = record.landmark_status(event_endpoint(design).landmark_day)
    control = sim.arm_index == design.arm_labels.index(design.control_arm)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "projected_randomised": funnel["projected_randomised"],
            "trigger_rate_per_year": funnel["n_triggered"] / funnel["carrier_years"],
            "screened_per_randomised": funnel["n_screened"] / sim.n_patients,
            "missed_by_trigger": funnel["n_converted_in_run_in"] / funnel["n_onset_in_run_in"],
            "trigger_to_onset_months": np.median(
                (record.untreated_onset_day - 1.0) / DAYS_PER_MONTH, axis=1
            ),
            "event_proportion_control": _mean_known(status[:, control]),
            "event_proportion_treated": _mean_known(status[:, ~control]),
        }


def _mean_known(values: FloatArray) -> FloatArray:
    """Row means over the finite entries (NaN for a row without any)."""
    known = np.isfinite(values)
    count = known.sum(axis=1)
    total = np.where(known, values, 0.0).sum(axis=1)
    out: FloatArray = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out
