"""Ralph's LRS (PyPI ralph-malph) with its filesystem backend, for the xAPI tests: run with the LRS venv's
python (`.cache/apps/lrs/bin/python tests/lrs_server.py PORT`; tests/test_server_learning.py does).

Ralph's filesystem backend writes each batch of statements with operation "create", which refuses a second
batch into its one statements file; a real LRS receives many batches, so this launcher makes the backend
append instead. Everything else (authentication, xAPI validation, duplicate ids, queries) is Ralph's own.
The settings come from the environment: RALPH_AUTH_FILE, RALPH_APP_DIR,
RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH."""
import os
import sys

os.environ["RALPH_RUNSERVER_BACKEND"] = "fs"

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

import uvicorn  # noqa: E402
from ralph.api import app  # noqa: E402

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
