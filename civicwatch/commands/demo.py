"""``civicwatch demo``: the whole job end to end on the sample comments, then a summary.

Brings Kafka up (unless ``KAFKA_BOOTSTRAP_SERVERS`` names a cluster), creates a fresh set of
prefixed topics, starts the worker, replays ``deploy/sample/windsor_sample.jsonl``, waits for every
comment to come out of ``comments.tagged``, prints routes, clauses and flagged examples, forwards the
council comments (clause 5.5) to a local SMTP server and approves their acknowledgements as a
moderator would, and stops what it started.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from workers.process import WorkerProcess

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "deploy" / "sample" / "windsor_sample.jsonl"
WATCHED = [
    "comments.tagged",
    "moderation.review",
    "posts.review",
    "council.forward",
    "moderation.actions",
    "comments.deadletter",
]


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        sample: Path = typer.Option(SAMPLE, exists=True, help="JSON Lines of posts and comments to replay."),
        timeout: float = typer.Option(240, help="Seconds to wait for every comment to come out."),
        examples: int = typer.Option(8, help="Flagged examples to show."),
    ) -> None:
        """Start Kafka and the worker, replay the sample, print what happened, stop what was started."""
        from civicwatch import kafka_local

        console = Console()
        started_kafka = not kafka_local.is_external() and not kafka_local.status()
        bootstrap = kafka_local.up()
        console.print(f"[bold]Kafka[/] at {bootstrap}" + (" (started)" if started_kafka else ""))
        try:
            complete = run_demo(console, bootstrap, f"demo{int(time.time())}.", sample, timeout, examples)
        finally:
            if started_kafka:
                kafka_local.down()
                console.print("Kafka stopped")
        if not complete:
            console.print("[red]Not every comment came out in time; see .local/demo-worker.log[/]")
            raise typer.Exit(1)


def run_demo(console: Console, bootstrap: str, prefix: str, sample: Path, timeout: float, examples: int) -> bool:
    """True when every replayed comment came out of ``comments.tagged``."""
    from connectors.replay import replay_file
    from runtime.admin import delete_topics, ensure_topics
    from runtime.sink import KafkaSink

    ensure_topics(bootstrap, prefix)
    log_path = REPO / ".local" / "demo-worker.log"
    log_path.unlink(missing_ok=True)
    worker = WorkerProcess(bootstrap, prefix, prefix.rstrip("."), log_path).start()
    console.print(f"[bold]Worker[/] started (pid {worker.pid}, log .local/demo-worker.log), topics {prefix}*")
    try:
        rows = [orjson.loads(line) for line in sample.read_bytes().splitlines() if line.strip()]
        expected = {
            f"{r['platform']}:{r['comment_id']}": r.get("expect", []) for r in rows if r.get("type") == "comment"
        }
        # Posts first, and comments only once the worker holds them: read concurrently from their two
        # topics, a comment classified before its post would be "not judged" for 5.7.1.
        posts_file, comments_file = split_sample(sample, log_path.parent)
        sink = KafkaSink(bootstrap, prefix)
        first = replay_file(posts_file, sink, progress=False)
        sink.flush()
        wait_for_posts(bootstrap, f"{prefix.rstrip('.')}-post-texts-changelog", first.posts, timeout, worker)
        rest = replay_file(comments_file, sink, progress=True)
        sink.close()
        console.print(
            f"Replayed {first.posts + rest.posts} posts and {rest.comments} comments "
            f"({first.dead_lettered + rest.dead_lettered} dead-lettered)"
        )
        outputs = collect(bootstrap, prefix, len(expected), timeout, worker)
        show_summary(console, outputs, expected, examples)
        forward_council(console, bootstrap, prefix, len(outputs["council.forward"]))
        show_access_request(console, bootstrap, prefix, outputs)
        return len({(c["comment"]["platform"], c["comment"]["comment_id"]) for c in outputs["comments.tagged"]}) >= len(
            expected
        )
    finally:
        worker.stop()
        console.print("Worker stopped")
        delete_topics(bootstrap, prefix)
        # The run's topics are gone, so its tables' on-disk stores describe nothing any more.
        shutil.rmtree(Path(worker.env["CIVICWATCH_DATA_DIR"]) / prefix.rstrip("."), ignore_errors=True)


def split_sample(sample: Path, workdir: Path) -> tuple[Path, Path]:
    """The sample's post lines and its other lines, as two files to replay one after the other."""
    posts: list[bytes] = []
    rest: list[bytes] = []
    for line in sample.read_bytes().splitlines(keepends=True):
        try:
            is_post = orjson.loads(line).get("type") == "post"
        except (orjson.JSONDecodeError, AttributeError):
            is_post = False  # replayed with the rest, where it is dead-lettered
        (posts if is_post else rest).append(line)
    workdir.mkdir(parents=True, exist_ok=True)
    posts_file, rest_file = workdir / "demo-posts.jsonl", workdir / "demo-comments.jsonl"
    posts_file.write_bytes(b"".join(posts))
    rest_file.write_bytes(b"".join(rest))
    return posts_file, rest_file


def wait_for_posts(bootstrap: str, changelog: str, n: int, timeout: float, worker: WorkerProcess) -> None:
    """Until the worker's post table changelog holds ``n`` posts (or the time is up)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        changelog, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, consumer_timeout_ms=500
    )
    keys: set[bytes] = set()
    deadline = time.monotonic() + timeout
    try:
        while len(keys) < n and time.monotonic() < deadline:
            if not worker.alive():
                raise SystemExit(f"the worker exited with code {worker.returncode}; see .local/demo-worker.log")
            keys.update(m.key for m in consumer if m.key is not None)
    finally:
        consumer.close()


def collect(
    bootstrap: str, prefix: str, n: int, timeout: float, worker: WorkerProcess
) -> dict[str, list[dict[str, Any]]]:
    """Read the output topics until ``n`` tagged comments arrived (or the time is up)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        *[prefix + t for t in WATCHED],
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=1000,
        isolation_level="read_committed",  # the worker's outputs are transactional
    )
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in WATCHED}
    deadline = time.monotonic() + timeout
    settle: float | None = None
    try:
        while time.monotonic() < deadline:
            if not worker.alive():
                raise SystemExit(f"the worker exited with code {worker.returncode}; see .local/demo-worker.log")
            for message in consumer:
                out[message.topic[len(prefix) :]].append(orjson.loads(message.value))
            if len(out["comments.tagged"]) >= n:
                settle = settle or time.monotonic() + 3  # let the other topics catch up
                if time.monotonic() >= settle:
                    break
    finally:
        consumer.close()
    return out


def show_summary(
    console: Console, outputs: dict[str, list[dict[str, Any]]], expected: dict[str, list[str]], examples: int
) -> None:
    from pipelines.redact import redact
    from pipelines.types import Evidence

    routes = Table(title="Messages per output topic")
    routes.add_column("topic")
    routes.add_column("messages", justify="right")
    for topic, items in outputs.items():
        routes.add_row(topic, str(len(items)))
    console.print(routes)

    flagged: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    written: Counter[str] = Counter()
    clause_of: dict[str, str] = {}
    for item in outputs["comments.tagged"]:
        flagged.update(item["flags"])
        clause_of.update({t["category"]: t["clause"] for t in item["tags"]})
        key = f"{item['comment']['platform']}:{item['comment']['comment_id']}"
        for category in expected.get(key, []):
            written[category] += 1
            caught[category] += category in item["flags"]
    clauses = Table(title="Flags per clause, and how many of the comments written to exhibit each were caught")
    for col in ("category", "clause", "flagged", "caught / written"):
        clauses.add_column(col, justify="left" if col == "category" else "right")
    for category in sorted(set(flagged) | set(written)):
        clauses.add_row(
            category, clause_of.get(category, ""), str(flagged[category]), f"{caught[category]} / {written[category]}"
        )
    console.print(clauses)

    console.print("[bold]Flagged examples[/] (evidence in red; private information redacted)")
    for item in outputs["moderation.review"][:examples]:
        text = str(item["comment"]["text"])
        tags = [t for t in item["tags"] if t["category"] in item["flags"]]
        private = [Evidence(**s) for t in tags if t["category"] == "private_info" for s in t["spans"]]
        line = Text(redact(text, private)) if private else Text(text)
        if not private:
            for t in tags:
                for s in t["spans"]:
                    line.stylize("bold red", s["start"], s["end"])
        labels = ", ".join(f"{t['clause']} {t['category']} {t['score']:.2f}" for t in tags)
        console.print(Text(f"  [{labels}] ") + line)


def forward_council(console: Console, bootstrap: str, prefix: str, forwards: int) -> None:
    """Clause 5.5 end to end: the forwarder mails each council comment to an in-process SMTP server
    (STARTTLS, AUTH), proposes the acknowledgement, and a demo moderator approves the proposals."""
    import tempfile

    from civicwatch.local_smtp import LocalSmtp
    from connectors.core import SystemClock
    from connectors.forward import STATE_NAME, Forwarder, KafkaPosts, SmtpMailer, forward_consumer, load_forward_policy
    from connectors.runner import KafkaCheckpointStore
    from pipelines.policy import DEFAULT_POLICY
    from review.replies import approve, pending_replies
    from runtime.sink import KafkaSink

    if not forwards:
        return
    try:
        import aiosmtpd  # noqa: F401  (the dev extra; `make demo` installs it)
    except ImportError:
        console.print("[yellow]aiosmtpd is not installed (pip install -e '.[dev]'): council comments not forwarded[/]")
        return
    with tempfile.TemporaryDirectory() as workdir:
        smtp = LocalSmtp(Path(workdir)).start()
        sink = KafkaSink(bootstrap, prefix, transactional_id=f"{prefix}civicwatch-forward")
        consumer = forward_consumer(bootstrap, prefix)
        try:
            mailer = SmtpMailer(smtp.host, smtp.port, smtp.username, smtp.password, context=smtp.client_context())
            forwarder = Forwarder(
                load_forward_policy(DEFAULT_POLICY),
                mailer,
                sink,
                consumer,
                SystemClock(),
                "socialmedia@citywindsor.ca",
                posts=KafkaPosts(bootstrap, prefix),
                interval=0.0,
            )
            forwarder.start(KafkaCheckpointStore(bootstrap, prefix).load(STATE_NAME))
            stats = forwarder.run(max_messages=forwards, idle_timeout=15)
        finally:
            consumer.close()
            sink.close()
            smtp.stop()
        approver = KafkaSink(bootstrap, prefix, transactional_id=f"{prefix}civicwatch-approve-replies")
        try:
            pending = pending_replies(bootstrap, prefix)
            approved = approve(approver, pending, "demo-moderator")
        finally:
            approver.close()
    mails = smtp.mailbox.messages
    console.print(
        f"[bold]Clause 5.5[/]: {len(mails)} message(s) in the local SMTP mailbox (STARTTLS, AUTH), "
        f"{stats.dead_lettered} forward(s) dead-lettered, {approved} acknowledgement(s) approved for the action "
        "executor"
    )
    recipients = Counter(r for m in mails for r in m.recipients)
    for address, count in recipients.most_common(5):
        console.print(f"  {count:>3} to {address}")
    if mails:
        console.print(f"  e.g. [italic]{mails[0].message['Subject']}[/]")
    if pending:
        console.print(f"  approved reply, e.g. [italic]{pending[0].text}[/]")


def show_access_request(
    console: Console, bootstrap: str, prefix: str, outputs: dict[str, list[dict[str, Any]]]
) -> None:
    """Clause 6.1: answer an access request for the sample's most active author from the topics, and
    check that it holds each of their comments and nothing of anyone else's."""
    from civicwatch.records import Export, export_audit, from_topics, kafka_reader, write_export
    from runtime.sink import KafkaSink
    from schemas.topics import AUDIT_LOG

    by_author: Counter[str] = Counter()
    comments: dict[str, set[str]] = {}
    for item in outputs["comments.tagged"]:
        c = item["comment"]
        author = f"{c['platform']}:{c['author_id']}"
        by_author[author] += 1
        comments.setdefault(author, set()).add(f"{c['platform']}:{c['comment_id']}")
    if not by_author:
        return
    author, _ = by_author.most_common(1)[0]
    export = Export(author)
    from_topics(export, kafka_reader(bootstrap), prefix)
    files = write_export(export, REPO / ".local" / "demo-export")
    sink = KafkaSink(bootstrap, prefix)
    sink.send(AUDIT_LOG, export_audit(export, "demo", files), key=f"author:{author}")
    sink.close()
    found = {
        f"{r['comment']['platform']}:{r['comment']['comment_id']}"
        for r in export.records.get("kafka:comments.tagged", [])
    }
    others = set().union(*(keys for a, keys in comments.items() if a != author))
    table = Table(title=f"Access request (clause 6.1) for author {author}: records per topic")
    table.add_column("source")
    table.add_column("records", justify="right")
    for source, n in export.counts().items():
        table.add_row(source, str(n))
    console.print(table)
    whole = found == comments[author] and not (found & others)
    console.print(
        f"{'[green]complete[/]' if whole else '[red]INCOMPLETE[/]'}: {len(found)} of the author's "
        f"{len(comments[author])} comments, {len(found & others)} of the {len(others)} other authors' comments; "
        f"written to .local/demo-export/{files[0].name} and .html"
    )
