"""Expensely: a small internal expense tool used by the guidecast demo and tests.

    from guidecast.samples.expense_app import start_sample_app
    with start_sample_app("base") as app:
        print(app.url)          # http://127.0.0.1:<port>

Two variants: "base" and "changed" (deliberate UI changes, see app.py).
"""
from guidecast.samples.expense_app.app import VARIANTS, create_app
from guidecast.samples.expense_app.server import SampleApp, start_sample_app

__all__ = ["VARIANTS", "SampleApp", "create_app", "start_sample_app"]
