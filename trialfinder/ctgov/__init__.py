"""The ClinicalTrials.gov API v2: query, settings, pacing, retries, the pager, and sources."""
