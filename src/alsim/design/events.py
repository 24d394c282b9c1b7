"""Dosing records in NONMEM vocabulary: AMT given at TIME, repeated ADDL more times every II.

A regimen becomes one record per loading dose and one record for the whole maintenance phase,
as a NONMEM or mrgsolve dataset would hold it; `expand_dose_events` turns records back into days.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from alsim.design.trial import Regimen
from alsim.errors import DesignError


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseEvent:
    """A dosing record: `amt_mg` on study day `day`, then `addl` more doses every `ii_days`."""

    day: int
    amt_mg: float
    ii_days: int = 0
    addl: int = 0

    def __post_init__(self) -> None:
        if self.day < 1:
            raise DesignError(f"dose event day must be >= 1, got {self.day}")
        if self.amt_mg < 0:
            raise DesignError(f"dose event amt_mg must be >= 0, got {self.amt_mg}")
        if self.addl < 0 or (self.addl > 0 and self.ii_days <= 0):
            raise DesignError(
                f"dose event with addl={self.addl} needs ii_days > 0, got {self.ii_days}"
            )


def dose_events(regimen: Regimen, dose_mg: float) -> tuple[DoseEvent, ...]:
    """The regimen as dosing records: loading doses, then one II/ADDL maintenance record."""
    events = [DoseEvent(day=day, amt_mg=dose_mg) for day in regimen.loading_days]
    if regimen.n_maintenance > 0:
        events.append(
            DoseEvent(
                day=regimen.loading_days[-1] + regimen.interval_days,
                amt_mg=dose_mg,
                ii_days=regimen.interval_days,
                addl=regimen.n_maintenance - 1,
            )
        )
    return tuple(events)


def expand_dose_events(events: Sequence[DoseEvent]) -> tuple[tuple[int, float], ...]:
    """(study day, amount) of every single dose the records describe, in time order."""
    doses = [
        (event.day + k * event.ii_days, event.amt_mg)
        for event in events
        for k in range(event.addl + 1)
    ]
    return tuple(sorted(doses))
