"""gunicorn's access log with query values masked (see accesslog.py).

`aftercare serve` runs gunicorn with `--logger-class plugin.gunicorn_log.GunicornLogger`."""

from __future__ import annotations

from gunicorn.glogging import Logger

from .accesslog import mask_query


class GunicornLogger(Logger):
    """Every string atom of the access log (request line, query, Referer,
    headers) with query values masked."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_query(value) if isinstance(value, str) else value for key, value in atoms.items()}
