"""The ``civicwatch`` command: the one package that imports every other (``python -m civicwatch``)."""
