"""Diagnostics of a staggered design: the Bacon decomposition, estimators side by side, HonestDiD sensitivity."""
