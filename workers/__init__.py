"""civicwatch workers."""
