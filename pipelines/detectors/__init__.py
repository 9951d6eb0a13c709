"""One module per clause. Importing a module registers its detector as a spaCy factory."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every detector module so each registers its factory; cheap after the first call."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
