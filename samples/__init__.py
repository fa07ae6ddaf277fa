"""Sample material for guidecast: the "Expensely" web app and workflows recorded against it."""
from pathlib import Path

WORKFLOWS_DIR = Path(__file__).parent / "workflows"
