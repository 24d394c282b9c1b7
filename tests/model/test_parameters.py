"""The annotated parameter table."""

import pytest

from alsim.errors import AlsimError
from alsim.model import DEFAULT_PARAMETERS, Parameter


def test_every_parameter_has_unit_description_and_source() -> None:
    for name in DEFAULT_PARAMETERS:
        p = DEFAULT_PARAMETERS[name]
        assert p.unit and p.description and p.source, name


def test_assumptions_are_tagged_in_their_source() -> None:
    """Values we chose or fitted say so: assumption=True and an [A] (or [U]) tag in the source."""
    for name in DEFAULT_PARAMETERS:
        p = DEFAULT_PARAMETERS[name]
        if p.assumption:
            assert "[A]" in p.source or "[U]" in p.source, name
        else:
            assert "[V]" in p.source or "[D]" in p.source, name


def test_with_values_returns_modified_copy_and_rejects_unknown_names() -> None:
    changed = DEFAULT_PARAMETERS.with_values(hill=2.0)
    assert changed.value("hill") == 2.0
    assert DEFAULT_PARAMETERS.value("hill") == 3.0
    with pytest.raises(AlsimError, match="unknown parameter 'hil'; allowed:"):
        DEFAULT_PARAMETERS.with_values(hil=2.0)


def test_parameter_rejects_inconsistent_variability() -> None:
    with pytest.raises(AlsimError, match="omega given without a variability model"):
        Parameter(
            name="x", value=1.0, unit="1", description="d", source="s", assumption=True, omega=0.2
        )
