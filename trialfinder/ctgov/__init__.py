"""The ClinicalTrials.gov API v2: query, settings, pacing, retries, the pager, and sources.

"Pitfall N" in comments here and elsewhere is the numbered list in docs/ctgov-api.md.
"""
