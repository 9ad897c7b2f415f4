"""WSGI entry point for gunicorn: `gunicorn plugin.wsgi:app` (or `aftercare serve`)."""

import sys

from plugin import create_app
from plugin.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"aftercare: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
