"""`--sample-app`: run the bundled Expensely app for the duration of one command."""
from __future__ import annotations

import os
from contextlib import nullcontext


def sample_app(variant: str | None):
    """A context manager yielding the running sample app (with `.url`), or None when no variant is given."""
    if not variant:
        return nullcontext(None)
    from guidecast.samples.expense_app import start_sample_app

    # The sample app's own default password, so its workflows' secret is known.
    os.environ.setdefault("EXPENSELY_PASSWORD", "demo-password")
    return start_sample_app(variant=variant)
