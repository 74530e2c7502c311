"""trialfinder: find CAR-T trials, and trials open after CAR-T, on ClinicalTrials.gov."""

__version__ = "0.1.0"
