"""``civicwatch classify | eval | train | quality``: the detectors on files, without Kafka."""

from __future__ import annotations

import json
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[2]


def register(app: typer.Typer) -> None:
    @app.command("classify")
    def classify(
        infile: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON Lines with `text` (and `context`)."),
        out: Path = typer.Option(..., "-o", "--out", help="Output JSON Lines."),
        policy: Path | None = typer.Option(None, help="Policy file (default: the bundled Windsor policy)."),
        batch_size: int = typer.Option(256, help="Comments per batch."),
        progress: bool = typer.Option(True, help="Show a progress bar on stderr."),
    ) -> None:
        """Tag a file: each line comes back unchanged plus `tags` and `flags`."""
        from pipelines.offline import classify_file

        stats = classify_file(infile, out, policy, batch_size=batch_size, progress=progress)
        typer.echo(
            f"classified {stats['classified']} comments, flagged {stats['flagged']}, "
            f"rejected {stats['rejected']} line(s)" + (f" (see {out}.rejects)" if stats["rejected"] else ""),
            err=True,
        )

    @app.command("eval")
    def evaluate(
        files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Labeled JSON Lines files."),
        as_json: bool = typer.Option(False, "--json", help="Print machine-readable results."),
        policy: Path | None = typer.Option(None, help="Policy file."),
        rows: str = typer.Option("heldout", help="heldout: skip rows the model was fitted on; all: every row."),
        sample: int | None = typer.Option(None, help="Evaluate a seeded sample of N rows per file."),
        worst: int = typer.Option(5, help="How many worst false positives/negatives to list."),
    ) -> None:
        """Precision, recall, F1 and support per labeled category, and the worst mistakes."""
        from pipelines.evaluate import evaluate_file
        from pipelines.pipeline import PolicyPipeline

        pipeline = PolicyPipeline(policy)
        reports = [evaluate_file(pipeline, f, rows=rows, sample=sample, worst=worst) for f in files]
        if as_json:
            typer.echo(json.dumps([r.as_dict() for r in reports], indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        console = Console()
        for report in reports:
            table = Table(title=f"{Path(report.path).name}: {report.rows} rows ({report.rows_used})")
            for col in ("category", "precision", "recall", "F1", "support"):
                table.add_column(col, justify="right" if col != "category" else "left")
            for cat, c in sorted(report.categories.items()):
                table.add_row(cat, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support))
            console.print(table)
            for t, (found, total) in sorted(report.span_recall.items()):
                console.print(f"  5.7.9 span recall {t}: {found}/{total} = {found / total:.3f}")
            if report.clean_precision is not None:
                console.print(f"  5.7.9 precision on rows without private information: {report.clean_precision:.3f}")
            for label, worst_rows in (
                ("false positives", report.worst_fp),
                ("false negatives", report.worst_fn),
            ):
                for cat, items in sorted(worst_rows.items()):
                    for score, rid, text in items:
                        snippet = " ".join(text.split())[:90]
                        console.print(f"  worst {label} [{cat}] {rid} score={score}: {snippet!r}", markup=False)

    @app.command("train")
    def train(
        categories: list[str] = typer.Argument(None, help="Categories to train (default: all)."),
    ) -> None:
        """Retrain the shipped text model from ../shared/data/dev (fixed seed and held-out fold)."""
        from pipelines.train import train_all

        model = train_all(categories or None)
        typer.echo(f"wrote pipelines/models for {', '.join(model.categories)}")

    @app.command("quality")
    def quality(
        out: Path = typer.Option(REPO / "docs" / "QUALITY.md", help="Markdown report to write."),
        baseline: Path = typer.Option(REPO / "docs" / "quality_baseline.json", help="Baseline F1s to write."),
        sample: int = typer.Option(3000, help="Rows per file at most (seeded sample), to bound anchors' time."),
    ) -> None:
        """Regenerate docs/QUALITY.md: every dev file, every category, beside the anchors."""
        from pipelines.quality import write_quality

        write_quality(out, baseline, sample)
        typer.echo(f"wrote {out} and {baseline}")
