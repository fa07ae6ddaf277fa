"""Jinja2 templates shared by the exports and the server."""
from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
