"""Rendering: cells, the output formats registry, tables that fit a terminal, `show` text."""
