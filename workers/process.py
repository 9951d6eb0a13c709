"""The worker as a subprocess (``python -m workers``) on its own topics and app id: the one helper
behind ``civicwatch demo``, ``civicwatch review demo``, the benchmarks and the integration tests.

Importing this loads neither faust nor the pipeline; the child process does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from runtime.settings import REPO_ROOT


def worker_environment(
    bootstrap: str, prefix: str, app_id: str, data_dir: Path, settings: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This process's environment with the worker pointed at ``bootstrap`` and ``prefix``: no web
    server (several may run on one machine), JSON logs, and ``settings`` (``CIVICWATCH_*``) last."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CIVICWATCH_TOPIC_PREFIX": prefix,
        "CIVICWATCH_APP_ID": app_id,
        "CIVICWATCH_WEB_PORT": "0",
        "CIVICWATCH_DATA_DIR": str(data_dir),
        "CIVICWATCH_LOG_FORMAT": "json",
        **(settings or {}),
    }


class WorkerProcess:
    """One worker subprocess; ``env`` may be changed until ``start``. Output goes to ``log_path``."""

    module = "workers"

    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        app_id: str,
        log_path: Path,
        policy: Path | None = None,
        *,
        data_dir: Path | None = None,
        args: Sequence[str] = (),
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.env = worker_environment(bootstrap, prefix, app_id, data_dir or log_path.parent / "worker-data", settings)
        if policy is not None:
            self.env["CIVICWATCH_POLICY"] = str(policy)
        self.args = list(args)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                env=self.env,
                stdout=log,
                stderr=log,
                cwd=REPO_ROOT,
            )
        return self

    def stop(self, kill: bool = False, timeout: float = 30.0) -> None:
        """Terminate (or kill) and wait; a process that does not stop in ``timeout`` is killed."""
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
