"""Exceptions raised at the package boundary.

Every error names the offending rows, columns or units, so a user can fix the input without reading code.
All derive from ``ValueError`` so ``except ValueError`` keeps working for callers who do not care which.

The hierarchy is ``ValueError`` > :class:`EconError` > (:class:`PanelError`, :class:`SpecificationError`,
:class:`TreatmentError`, :class:`WeightsError`). Sample changes an estimator makes on its own (rows with missing
values dropped, units recoded to never treated, always-treated units dropped) are warned with :class:`EconWarning`,
a ``UserWarning``, and recorded in the result's ``.notes``.
"""

__all__ = ["EconError", "EconWarning", "PanelError", "SpecificationError", "TreatmentError", "WeightsError"]


class EconError(ValueError):
    """Base class of all input errors raised by econ.

    Catch this to handle any bad input to the package in one place; it is a ``ValueError``, so callers that
    only catch ``ValueError`` keep working. The message names the offending argument, column, rows or units.

    Parameters
    ----------
    message : str
        What is wrong and which argument, column, rows or units are concerned.

    Examples
    --------
    >>> import pandas as pd
    >>> import econ
    >>> no_time = pd.DataFrame({"id": [1, 2], "y": [0.0, 1.0]})  # the named time column is missing
    >>> try:
    ...     econ.validate_panel(no_time, "id", "year")
    ... except econ.EconError as err:
    ...     print(type(err).__name__, isinstance(err, ValueError))
    PanelError True
    """


class PanelError(EconError):
    """The data do not form a valid panel (duplicate keys, missing ids, non-integer time, empty frame...).

    Raised by :func:`econ.validate_panel`, :func:`econ.read_panel` and every estimator that validates its panel.

    Parameters
    ----------
    message : str
        The problem and the offending rows / unit-time keys.

    Examples
    --------
    >>> import pandas as pd
    >>> import econ
    >>> bad = pd.DataFrame({"id": [1, 1], "year": [2010, 2010], "y": [0.0, 1.0]})
    >>> try:
    ...     econ.validate_panel(bad, "id", "year")
    ... except econ.PanelError:
    ...     print("duplicate unit-time keys rejected")
    duplicate unit-time keys rejected
    """


class SpecificationError(EconError):
    """The model cannot be estimated as specified (unknown column, absorbed or collinear regressor...).

    Raised (never returned) by the estimators and model functions; the message names the argument at fault.

    Parameters
    ----------
    message : str
        The problem and the offending formula term, column or argument.

    Examples
    --------
    >>> import pandas as pd
    >>> import econ
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 5.0], "x": [0.0, 1.0, 2.0, 3.0]})
    >>> try:
    ...     econ.feols("y ~ not_a_column", df)
    ... except econ.SpecificationError:
    ...     print("unknown column rejected")
    unknown column rejected
    """


class TreatmentError(EconError):
    """The treatment variable does not fit the design (non-absorbing, no untreated units, cohort outside panel...).

    Raised (never returned) by the DiD estimators and the claims' panel checks; the message names the units.

    Parameters
    ----------
    message : str
        The problem and the offending units or cohorts.

    Examples
    --------
    >>> import econ
    >>> err = econ.TreatmentError("treatment switches off for units [3]")
    >>> isinstance(err, econ.EconError), str(err)
    (True, 'treatment switches off for units [3]')
    """


class WeightsError(EconError):
    """A spatial weights object does not match the units of the data.

    Raised by :class:`econ.spatial.Weights` and the spatial estimators when ``W`` is not square, has negative or
    non-finite entries, or does not cover the units of the panel.

    Parameters
    ----------
    message : str
        The problem and the offending units.

    Examples
    --------
    >>> import econ
    >>> err = econ.WeightsError("W lacks units [110100]")
    >>> isinstance(err, ValueError), str(err)
    (True, 'W lacks units [110100]')
    """


class EconWarning(UserWarning):
    """A change econ made to the estimation sample on its own: rows or units dropped, cohorts recoded.

    Every such change is also recorded in the result's ``.notes``. Filter it like any warning, e.g.
    ``warnings.simplefilter("ignore", econ.EconWarning)`` or ``"error"`` to turn sample changes into failures.

    Parameters
    ----------
    message : str
        The change, how many rows or units it concerns, and examples of them.

    Examples
    --------
    >>> import warnings
    >>> import econ
    >>> issubclass(econ.EconWarning, UserWarning)
    True
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("3 unit(s) dropped", econ.EconWarning)
    >>> caught[0].category.__name__
    'EconWarning'
    """
