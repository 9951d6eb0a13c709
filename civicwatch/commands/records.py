"""``civicwatch records``: access requests (clause 6.1) and retention (clause 6.2)."""

from __future__ import annotations

import getpass
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

policy_option = typer.Option(None, "--policy", help="Policy file (default: CIVICWATCH_POLICY or the bundled one).")
db_option = typer.Option(None, "--db", help="The review service's store (default: CIVICWATCH_REVIEW_DB).")


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def register(app: typer.Typer) -> None:
    records = typer.Typer(help="Records: access requests (6.1) and retention (6.2).", no_args_is_help=True)
    app.add_typer(records, name="records")

    @records.command("retention")
    def retention(
        apply: bool = typer.Option(False, "--apply", help="Set each existing topic's retention.ms from the policy."),
        cluster: bool = typer.Option(True, help="Ask the broker what each topic has (--no-cluster: skip)."),
        policy: Path | None = policy_option,
        db: Path | None = db_option,
    ) -> None:
        """What is kept and until when: per topic its retention.ms, per store table its rows and the oldest."""
        from civicwatch.records import retention_ms
        from pipelines.policy import RetentionRule, load_policy
        from runtime.admin import ensure_topics, topic_configs
        from runtime.settings import Settings
        from schemas.topics import ALL_TOPICS

        settings = Settings.from_env()
        loaded = load_policy(policy or settings.policy_path)
        wanted = retention_ms(loaded)
        rules: dict[str, RetentionRule] = (
            {str(k): v for k, v in loaded.retention.records.items()} if loaded.retention is not None else {}
        )
        if loaded.retention is None:
            typer.echo("The policy file sets no retention: topics keep their declared retention, the store keeps rows.")
        else:
            state = "set by the city" if loaded.retention.set_by_city else "DEFAULTS, not yet set by the city"
            typer.echo(f"Retention per {loaded.retention.bylaw or 'the retention by-law'} ({state}):")
            for record, rule in rules.items():
                typer.echo(f"  {record:<13} {rule.keep:>5}  {rule.note}")
        names = {spec.full_name(settings.topic_prefix): spec for spec in ALL_TOPICS}
        have: dict[str, dict[str, str | None]] = {}
        reached = False
        if cluster:
            try:
                have = topic_configs(settings.bootstrap_servers, names)
                reached = True
            except Exception as exc:  # the report still says what the policy sets
                typer.echo(f"(cluster at {settings.bootstrap_servers} not reachable: {type(exc).__name__})")
        typer.echo("\nTopics (retention.ms: the policy sets / the cluster has):")
        for name, spec in names.items():
            sets = wanted.get(spec.record or "", spec.retention_ms)
            sets_text = "compacted, latest per key" if spec.cleanup_policy == "compact" else f"{sets} ms"
            if sets is not None and spec.cleanup_policy != "compact":
                sets_text += f" ({sets // 86_400_000} days)"
            has = have.get(name, {}).get("retention.ms") if reached else None
            has_text = (has or "missing") if reached and name in have else ("no topic" if reached else "?")
            typer.echo(f"  {name:<28} {spec.record or '-':<13} {sets_text:<32} {has_text}")
        if apply and not reached:
            typer.echo("error: --apply needs the cluster (and not --no-cluster)", err=True)
            raise typer.Exit(2)
        if apply:
            present = [s for n, s in names.items() if n in have]
            results = ensure_topics(
                settings.bootstrap_servers,
                settings.topic_prefix,
                present,
                default_partitions=settings.partitions,
                replication=settings.replication,
                retention=wanted,
            )
            for name, outcome in results:
                typer.echo(f"{outcome:9} {name}")
        path = db or settings.review_db
        typer.echo(f"\nReview store {path}:")
        if not path.exists():
            typer.echo("  (no store here)")
            return
        from review.store import Store

        store = Store(path)
        try:
            for table, record, rows, oldest in store.retained():
                kept = rules.get(record)
                if oldest is None:
                    typer.echo(f"  {table:<13} {rows:>7} rows")
                    continue
                until = f"purged from {_day(oldest + kept.seconds)}" if kept is not None else "kept (no retention set)"
                typer.echo(f"  {table:<13} {rows:>7} rows, oldest {_day(oldest)}, {until}")
        finally:
            store.close()

    @records.command("purge")
    def purge(policy: Path | None = policy_option, db: Path | None = db_option) -> None:
        """Delete the review store's rows past the policy's retention (the service also does this on a timer)."""
        from civicwatch.records import purge_cutoffs
        from pipelines.policy import load_policy
        from review.store import Store
        from runtime.settings import Settings

        settings = Settings.from_env()
        path = db or settings.review_db
        if not path.exists():
            typer.echo(f"error: no review store at {path}", err=True)
            raise typer.Exit(2)
        cutoffs = purge_cutoffs(load_policy(policy or settings.policy_path), time.time())
        if not cutoffs:
            typer.echo("The policy file sets no retention: nothing purged.")
            return
        store = Store(path)
        try:
            with store.transaction():
                deleted = store.purge(cutoffs)
        finally:
            store.close()
        for table, n in deleted.items():
            typer.echo(f"{table:<13} {n} row(s) deleted")

    @records.command("export")
    def export(
        author_id: str = typer.Option(..., "--author-id", help="The author's id, bare or as platform:id."),
        out: Path = typer.Option(..., "--out", help="Directory for the JSON Lines file and the HTML summary."),
        broker: bool = typer.Option(
            False, "--broker", help="Also read every topic from the beginning (KAFKA_BOOTSTRAP_SERVERS)."
        ),
        by: str = typer.Option(getpass.getuser(), "--by", help="Who answers the request (for the audit record)."),
        request_ref: str = typer.Option("", "--request-ref", help="The access request's file number."),
        db: Path | None = db_option,
    ) -> None:
        """Answer an access request (MFIPPA, clause 6.1): every record about one author, audited."""
        from civicwatch.records import Export, export_audit, from_store, from_topics, kafka_reader, write_export
        from review.store import Store
        from runtime.settings import Settings

        settings = Settings.from_env()
        if not author_id.strip():
            typer.echo("error: --author-id is empty", err=True)
            raise typer.Exit(2)
        result = Export(author_id.strip())
        path = db or settings.review_db
        store = Store(path) if path.exists() else None
        if store is None:
            typer.echo(f"(no review store at {path}: the topics only)", err=True)
            if not broker:
                typer.echo("error: no review store and no --broker: nothing to read", err=True)
                raise typer.Exit(2)
        try:
            if store is not None:
                from_store(result, store)
            if broker:
                try:
                    from_topics(result, kafka_reader(settings.bootstrap_servers), settings.topic_prefix)
                except Exception as exc:  # an incomplete answer to a request is no answer: write nothing
                    typer.echo(f"error: reading the topics at {settings.bootstrap_servers} failed: {exc}", err=True)
                    raise typer.Exit(2) from None
            files = write_export(result, out)
            audit = export_audit(result, by, files, request_ref)
            if broker:
                from runtime.sink import KafkaSink
                from schemas.topics import AUDIT_LOG

                sink = KafkaSink(settings.bootstrap_servers, settings.topic_prefix)
                try:
                    sink.send(AUDIT_LOG, audit, key=audit.subject)
                    sink.flush()
                finally:
                    sink.close()
            if store is not None:  # recorded at once, whether or not the service is running
                with store.transaction():
                    store.put_audit(audit)
        finally:
            if store is not None:
                store.close()
        for source, n in result.counts().items():
            typer.echo(f"{source:<34} {n}")
        for file in files:
            typer.echo(f"wrote {file}")
