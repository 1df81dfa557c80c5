"""Utilities shared across the package: series, parameter checks, seeding.

Nothing here knows about estimators: ``utils`` sits at the bottom of the package,
beside :mod:`sklearn_causalmmm.panel`.
"""
