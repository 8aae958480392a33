"""``python -m cli`` runs the ``warrant`` command line."""

from cli.main import app

app()
