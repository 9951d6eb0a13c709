"""Platform tokens: from the environment or a secrets file, registered for scrubbing, never logged.

The secrets file (``CIVICWATCH_SECRETS_FILE``) holds ``NAME=value`` lines (``#`` comments and blank
lines allowed, values optionally quoted), the format Docker, systemd and Kubernetes all can mount.
The environment wins over the file so an operator can override one token without editing it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from connectors.core import CredentialError
from runtime.logs import register_secret


def read_secrets_file(path: Path) -> dict[str, str]:
    """Parse ``NAME=value`` lines; a malformed line is an error naming its number, not its content."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        name = name.strip().removeprefix("export ").strip()
        if not sep or not name:
            raise CredentialError(str(path), f"line {number} is not NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


class Secrets:
    """Looks tokens up by variable name; every value found is registered with the log scrubber."""

    def __init__(self, env: Mapping[str, str] | None = None, file: Path | None = None) -> None:
        self.env = os.environ if env is None else env
        path = file or (Path(self.env["CIVICWATCH_SECRETS_FILE"]) if self.env.get("CIVICWATCH_SECRETS_FILE") else None)
        if path is not None and not path.is_file():
            raise CredentialError("CIVICWATCH_SECRETS_FILE", f"points to {path}, which is not a file")
        self.file_values = read_secrets_file(path) if path is not None else {}

    def get(self, name: str) -> str | None:
        value = self.env.get(name) or self.file_values.get(name) or None
        register_secret(value)
        return value

    def require(self, name: str) -> str:
        """The token, or a ``CredentialError`` that names the missing variable."""
        value = self.get(name)
        if not value:
            raise CredentialError(name, "is not set (environment or CIVICWATCH_SECRETS_FILE)")
        return value
