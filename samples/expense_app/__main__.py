"""`python -m guidecast.samples.expense_app [--variant base|changed] [--port 8000]`: run Expensely."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from guidecast.samples.expense_app.app import DEFAULT_PASSWORD, VARIANTS
from guidecast.samples.expense_app.server import start_sample_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m guidecast.samples.expense_app", description=__doc__)
    parser.add_argument("--variant", choices=VARIANTS, default="base")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (default 8000)")
    args = parser.parse_args(argv)
    try:
        app = start_sample_app(args.variant, args.port)
    except (OSError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    where = "EXPENSELY_PASSWORD" if os.environ.get("EXPENSELY_PASSWORD") else f"default {DEFAULT_PASSWORD!r}"
    print(f"Expensely ({app.variant}) running at {app.url}  (password: {where}; Ctrl-C to stop)", flush=True)
    def _interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while app.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
