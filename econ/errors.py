"""Exceptions raised at the package boundary.

Every error names the offending rows, columns or units, so a user can fix the input without reading code.
All derive from ``ValueError`` so ``except ValueError`` keeps working for callers who do not care which.
"""


class EconError(ValueError):
    """Base class of all input errors raised by econ."""


class PanelError(EconError):
    """The data do not form a valid panel (duplicate keys, missing ids, non-integer time, empty frame...)."""


class SpecificationError(EconError):
    """The model cannot be estimated as specified (unknown column, absorbed or collinear regressor...)."""


class TreatmentError(EconError):
    """The treatment variable does not fit the design (non-absorbing, no untreated units, cohort outside panel...)."""


class WeightsError(EconError):
    """A spatial weights object does not match the units of the data."""
