"""``python -m connectors x | facebook | facebook-webhook | replay | actions``: one connector process."""

from connectors.main import app

app(prog_name="python -m connectors")
