"""``civicwatch check-post``: clause 5.6 on a draft, before staff publish it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

MAX_POST_CHARS = 100_000


def register(app: typer.Typer) -> None:
    @app.command("check-post")
    def check_post(
        source: str = typer.Argument(..., help="The draft post: a UTF-8 text file, or - for standard input."),
        policy: Path | None = typer.Option(None, help="Policy file (default: CIVICWATCH_POLICY or the bundled one)."),
        language: str | None = typer.Option(
            None, help="The post's language (en, fr), for the name model; default: guessed."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
    ) -> None:
        """Check a draft for confidential or private information (clauses 5.6, 5.7.9).

        Exit code 0: clean; 1: findings (printed with clause, evidence and offsets); 2: bad input.
        """
        from pipelines.confidential import PostChecker
        from pipelines.policy import PolicyError, load_policy
        from runtime.settings import Settings

        try:
            raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
            text = raw.decode("utf-8")
        except OSError as exc:
            typer.echo(f"error: cannot read {source}: {exc.strerror}", err=True)
            raise typer.Exit(2) from None
        except UnicodeDecodeError as exc:
            typer.echo(f"error: {source} is not UTF-8 text (byte {exc.start})", err=True)
            raise typer.Exit(2) from None
        if not text.strip():
            typer.echo(f"error: {source} holds no text to check", err=True)
            raise typer.Exit(2)
        if len(text) > MAX_POST_CHARS:
            typer.echo(f"error: {source} is longer than {MAX_POST_CHARS} characters", err=True)
            raise typer.Exit(2)
        try:
            checker = PostChecker(load_policy(policy or Settings.from_env().policy_path))
        except PolicyError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        findings = checker.check(text, language)
        if as_json:
            typer.echo(json.dumps({"clean": not findings, "findings": [f.as_dict() for f in findings]}, indent=2))
        elif not findings:
            typer.echo("clean: no confidential or private information found (clauses 5.6, 5.7.9)")
        else:
            typer.echo(f"{len(findings)} finding(s); do not publish until each is removed or cleared:")
            for f in findings:
                line = text.count("\n", 0, f.start) + 1
                typer.echo(f"  {f.clause:<6} {f.label:<18} chars {f.start}-{f.end} (line {line}): {f.text!r}")
        raise typer.Exit(1 if findings else 0)
