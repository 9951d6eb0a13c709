from civicwatch.cli import app

app()
