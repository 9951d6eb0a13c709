"""``python -m review``: the review service alone (``add-user`` too), without the rest of the CLI."""

from review.main import cli

cli()(prog_name="python -m review")
