"""Saved searches and change reports: home folders, the watch file, snapshots, compare, runs."""
