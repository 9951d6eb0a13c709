"""Training, evaluation and quality reports: offline work, apart from the run-time detectors."""
