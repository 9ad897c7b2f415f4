"""WSGI entry point for gunicorn: `gunicorn plugin.wsgi:app` (or `aftercare serve`)."""

import gc
import sys

from plugin import create_app
from plugin.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"aftercare: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)

# What is loaded by now (modules, the app, SQLAlchemy's mappings) lives as long
# as the process: keep it out of the collector's full passes, which otherwise
# walk all of it every so often in the middle of a request (bench/README.md).
gc.freeze()
