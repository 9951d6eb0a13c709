"""``civicwatch bench``: how fast the worker is on the real broker, and the ceilings around it."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[2]


def _broker() -> tuple[str, bool]:
    """The local broker (started if needed) or ``KAFKA_BOOTSTRAP_SERVERS``; True if we started it."""
    from civicwatch import kafka_local

    started = not kafka_local.is_external() and not kafka_local.status()
    return kafka_local.up(timeout=180), started


def _stop(started: bool) -> None:
    from civicwatch import kafka_local

    if started:
        kafka_local.down()


def register(app: typer.Typer) -> None:
    bench = typer.Typer(help="Benchmarks: the worker end to end, raw Kafka, the pipelines alone.", no_args_is_help=True)
    app.add_typer(bench, name="bench")

    @bench.command("pipeline")
    def pipeline(
        comments: int = typer.Option(10_000, "-n", help="Comments for the whole pipeline."),
        per_detector: int = typer.Option(3_000, help="Comments for each detector alone."),
        presidio: int = typer.Option(1_000, help="Comments for Presidio's analyzer (if installed)."),
        cli: int = typer.Option(30_000, help="Short comments for `civicwatch classify` (0 skips)."),
    ) -> None:
        """The detectors without Kafka: whole pipeline, per detector, worker code path, classify CLI."""
        from benchmarks.pipelines import run_classify_cli, run_pipelines

        report = run_pipelines(comments, per_detector, presidio)
        if cli:
            report.classify_cli = run_classify_cli(cli)
        typer.echo(f"pipelines alone: {report.whole.per_second:,.0f}/s, {report.whole.per_cpu_second:,.0f}/CPU-s")
        if report.worker_path:
            typer.echo(f"worker code path without Kafka: {report.worker_path.per_second:,.0f}/s")
        for name, ms in sorted(report.detector_ms.items(), key=lambda kv: -kv[1]):
            typer.echo(f"  {name:16} {ms:7.3f} ms/comment")
        if report.presidio:
            typer.echo(f"presidio analyzer: {report.presidio.per_second:,.0f}/s")
        if report.classify_cli:
            typer.echo(f"civicwatch classify: {report.classify_cli.per_cpu_second:,.0f} comments/CPU-s")
        typer.echo(report.worker_profile)

    @bench.command("kafka")
    def kafka(comments: int = typer.Option(50_000, "-n", help="Comments to produce and consume.")) -> None:
        """Raw produce and consume throughput with no processing."""
        from benchmarks.endtoend import raw_kafka

        bootstrap, started = _broker()
        try:
            raw = raw_kafka(bootstrap, comments)
        finally:
            _stop(started)
        typer.echo(
            f"produce {raw.produce_per_s:,.0f}/s, consume {raw.consume_per_s:,.0f}/s ({raw.bytes_per_message} B)"
        )

    @bench.command("worker")
    def worker(
        workers: int = typer.Option(1, help="Worker processes in one consumer group."),
        comments: int = typer.Option(20_000, "-n", help="Comments for the throughput phase."),
        latency_seconds: float = typer.Option(30.0, help="Length of the fixed-rate latency phase."),
        rate: float | None = typer.Option(None, help="Latency-phase rate (default: half the throughput)."),
        agents: str = typer.Option(
            "comments,decisions,posts",
            help="Agents of the measured workers, as deployed; without analytics, an analytics worker "
            "is then timed on their output.",
        ),
    ) -> None:
        """Throughput, latency percentiles, CPU and memory of the worker on the real broker, and the
        analytics worker's rate on what it tagged."""
        from benchmarks.endtoend import worker_run
        from benchmarks.machine import load
        from runtime.settings import parse_agents

        try:
            agents = ",".join(parse_agents(agents))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--agents") from exc
        before = load()
        bootstrap, started = _broker()
        try:
            with tempfile.TemporaryDirectory(prefix="civicwatch-bench-") as tmp:
                run = worker_run(bootstrap, workers, comments, latency_seconds, rate, Path(tmp), agents)
        finally:
            _stop(started)
        typer.echo(
            f"{workers} worker(s) --agents {run.agents}: {run.throughput:,.0f}/s; "
            f"latency at {run.latency_rate:,.0f}/s: "
            f"p50 {run.p50_ms:,.0f} ms, p95 {run.p95_ms:,.0f} ms, p99 {run.p99_ms:,.0f} ms; "
            f"CPU {run.worker_cpu_percent}%, peak {run.worker_peak_mib} MiB"
        )
        loads = [before, *run.load]
        if run.analytics is not None:
            a = run.analytics
            typer.echo(
                f"analytics worker: {a.throughput:,.0f} comments/s on comments.tagged "
                f"({a.comments:,} counted); CPU {a.cpu_percent:.0f}%, peak {a.peak_mib:.0f} MiB"
            )
            loads.append(a.load)
        typer.echo("load average (1 min) before, after each phase: " + " → ".join(f"{x:.2f}" for x in loads))

    @bench.command("soak-cluster")
    def soak_cluster(
        minutes: float = typer.Option(60.0, help="Length of the soak."),
        kill_every: float = typer.Option(600.0, help="Seconds between broker kills."),
        down: float = typer.Option(30.0, help="Seconds a killed broker stays down."),
        window: float = typer.Option(600.0, help="Seconds per reported window."),
        rate: float | None = typer.Option(None, help="Comments/s (default: half the rate measured on the cluster)."),
        warmup: int = typer.Option(10_000, help="Comments of the rate measurement."),
        out: Path | None = typer.Option(None, help="Also write the result here as JSON."),
    ) -> None:
        """A local three-node cluster for --minutes at half the worker's rate, the broker leading the
        most comments.raw partitions SIGKILLed every --kill-every seconds: lost, duplicated, p99 and
        worker RSS per window. Exits 1 on any loss or duplicate."""
        import dataclasses
        import json
        import os

        from benchmarks.soak_cluster import render, soak
        from civicwatch import kafka_local

        env = {
            "CIVICWATCH_KAFKA_BROKERS": "3",
            "CIVICWATCH_KAFKA_PORT": os.environ.get("CIVICWATCH_SOAK_KAFKA_PORT", "19292"),
            "CIVICWATCH_KAFKA_DIR": os.environ.get("CIVICWATCH_SOAK_KAFKA_DIR", str(REPO / ".local" / "kafka-cluster")),
            "KAFKA_BOOTSTRAP_SERVERS": "",
        }

        class LocalNodes:
            def kill(self, node: int) -> None:
                kafka_local.kill_node(node, env)

            def start(self, node: int) -> None:
                kafka_local.start_node(node, env)

            def wait_ready(self) -> None:
                kafka_local.wait_until_ready(bootstrap, 300, brokers=3)

        started = not kafka_local.status(env)
        bootstrap = kafka_local.up(timeout=300, env=env)
        try:
            with tempfile.TemporaryDirectory(prefix="civicwatch-soak-") as tmp:
                result = soak(bootstrap, LocalNodes(), minutes, kill_every, down, window, rate, warmup, Path(tmp))
        finally:
            if started:
                kafka_local.down(env)
        typer.echo(render(result, "civicwatch bench soak-cluster " + " ".join(sys.argv[3:])))
        if out is not None:
            out.write_text(json.dumps(dataclasses.asdict(result), indent=1), encoding="utf-8")
        if result.lost or result.duplicated or result.duplicated_other_outputs:
            raise typer.Exit(1)

    @bench.command("all")
    def all_(
        comments: int = typer.Option(20_000, "-n", help="Comments per throughput phase."),
        workers: list[int] = typer.Option([1, 2], "--workers", help="Worker counts to run."),
        latency_seconds: float = typer.Option(30.0, help="Length of each fixed-rate latency phase."),
        out: Path = typer.Option(REPO / "docs" / "PERFORMANCE.md", help="Report to write."),
    ) -> None:
        """Everything in one run, written to docs/PERFORMANCE.md with the machine's load."""
        from benchmarks.endtoend import raw_kafka, worker_run
        from benchmarks.machine import load, machine
        from benchmarks.pipelines import run_classify_cli, run_pipelines
        from benchmarks.report import BenchResult, render

        command = "civicwatch bench all " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else "civicwatch bench all"
        box = machine()
        typer.echo("pipelines alone...", err=True)
        pipelines = run_pipelines(10_000, 3_000, 1_000)
        typer.echo("classify CLI...", err=True)
        pipelines.classify_cli = run_classify_cli(30_000)
        bootstrap, started = _broker()
        try:
            typer.echo("raw Kafka...", err=True)
            raw = raw_kafka(bootstrap, comments)
            runs = []
            for count in workers:
                typer.echo(f"{count} worker(s)...", err=True)
                with tempfile.TemporaryDirectory(prefix="civicwatch-bench-") as tmp:
                    runs.append(worker_run(bootstrap, count, comments, latency_seconds, None, Path(tmp)))
        finally:
            _stop(started)
        result = BenchResult(command.strip(), box, pipelines, raw, runs, load())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(result), encoding="utf-8")
        typer.echo(f"wrote {out}")
