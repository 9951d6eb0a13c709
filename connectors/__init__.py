"""civicwatch connectors."""
