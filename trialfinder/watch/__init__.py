"""Saved searches and change reports (the watch file, snapshots, compare); filled in next."""
