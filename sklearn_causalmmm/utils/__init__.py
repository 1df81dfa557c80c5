"""Utilities shared across the package: series, lag windows and the Granger
statistics on them, parameter checks, seeding, the baselines' training loop.

Nothing here knows about estimators: ``utils`` sits at the bottom of the package,
beside :mod:`sklearn_causalmmm.panel`.
"""
