"""civicwatch pipelines."""
