"""The errors alsim raises on bad input; each message names the field and what is allowed."""


class AlsimError(Exception):
    """Base of every user-facing alsim error: the CLI prints its message as one line."""


class DesignError(AlsimError):
    """A trial design is invalid (bad YAML, unknown key, out-of-range value)."""


class AnalysisError(AlsimError):
    """An analysis cannot run on the data given (missing column, unknown arm, too few patients)."""


class EvidenceError(AlsimError):
    """The evidence file is malformed or a requested target is absent."""
