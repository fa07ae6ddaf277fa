"""The real-app corpus (Datasette, Wagtail, React TodoMVC); see conftest.py."""
