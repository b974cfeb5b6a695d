"""Benchmarks: one script per benchmark; the figures go to BENCHMARKS.md at the root."""
