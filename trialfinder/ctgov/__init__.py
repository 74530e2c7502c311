"""The ClinicalTrials.gov API v2: query parameters, settings, pacing, retries, the pager, sources."""
