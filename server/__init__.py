"""The guidecast web app (FastAPI)."""
