"""Benchmarks of the worker on the real broker, and the ceilings they are compared with.

``civicwatch bench`` runs them and writes ``docs/PERFORMANCE.md``; see that file for the commands.
"""
