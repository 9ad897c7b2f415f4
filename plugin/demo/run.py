"""`aftercare demo` as a process: binds the port, builds the app on the
demo's development defaults, prepares the demo shop, and runs the web
server, the worker, the scenario and the stand-in Shopify in threads; the
main thread waits for Ctrl-C (SIGINT) or SIGTERM and then stops them all."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import threading
import time

from sqlalchemy.exc import SQLAlchemyError
from werkzeug.serving import make_server

from .. import migrate, worker
from ..admin import admin_url
from ..config import ConfigError
from ..db import engine
from .console import DEV_DEFAULTS, print_line, print_urls
from .fake_shopify import DemoShopify
from .install import DEMO_TOKEN, prepare
from .player import run_scenario
from .scenario import DEMO_SHOP


def _fail(message: str, code: int = 1) -> None:
    print(f"aftercare: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def _listen(port: int) -> socket.socket:
    """Bind 127.0.0.1:``port`` ourselves, so a taken port is one clear line
    (werkzeug would print two and exit on its own)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OverflowError:
        sock.close()
        _fail(f"--port {port} is not a port number (1-65535)")
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _fail(f"port {port} is in use; try --port {port + 1 if port < 65535 else 8001}")
        _fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
    return sock


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(port: int, step_seconds: float = 1.5) -> None:
    """Run the demo until Ctrl-C (or SIGTERM); returns normally after a clean stop."""
    listener = _listen(port)
    port = listener.getsockname()[1]
    # The demo's own development defaults; anything already in the environment wins.
    for name, value in DEV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AFTERCARE_APP_URL", f"http://127.0.0.1:{port}")
    base_url = f"http://127.0.0.1:{port}"

    # Request lines and migration chatter would drown the scenario's own lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # So would the install's webhook subscriptions, made in the stand-in Shopify one line each.
    logging.getLogger("plugin.shopify").setLevel(logging.WARNING)
    logging.getLogger("plugin.subscriptions").setLevel(logging.WARNING)

    from .. import create_app  # here, not at import: create_app imports this package

    stop = threading.Event()
    threads: list[threading.Thread] = []
    server = None
    app = None
    shopify = None
    broken = False
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C and SIGTERM both arrive here as KeyboardInterrupt. SIGINT is set
        # explicitly: a shell starting us in the background may have ignored it.
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_interrupt)
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # The demo shop exists only here: its Shopify is the stand-in, whatever SHOPIFY_BASE_URL says.
        shopify = DemoShopify(DEMO_TOKEN).start()
        try:
            app = create_app({"DEMO": True, "SHOPIFY_BASE_URL": shopify.base_url_template})
        except ConfigError as exc:
            _fail(f"configuration error: {exc}", code=2)  # as the other commands
        try:
            migrate.upgrade(app)
            prepare(app, shopify)
        except SQLAlchemyError as exc:
            _fail(f"cannot prepare the database: {getattr(exc, 'orig', None) or exc}")

        server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
        listener.close()  # the server holds its own duplicate of the socket

        def work():
            with app.app_context():
                worker.run(app, poll_seconds=0.3, stop=stop)

        def play():
            run_scenario(app, base_url, step_seconds, stop, print_line)

        threads.append(threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="aftercare-web", daemon=True))
        threads.append(threading.Thread(target=work, name="aftercare-worker", daemon=True))
        for thread in threads:
            thread.start()
        with app.app_context():
            admin = admin_url(DEMO_SHOP)
        print_urls(base_url, admin=admin)
        threads.append(threading.Thread(target=play, name="aftercare-demo-scenario", daemon=True))
        threads[-1].start()

        while threads[0].is_alive() and threads[1].is_alive():
            time.sleep(0.2)
        broken = True
        print("aftercare: the web server or the worker stopped unexpectedly", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not interrupt the clean-up (which is bounded).
        if previous:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        if server is not None:
            if threads and threads[0].ident is not None:
                server.shutdown()  # only once serve_forever was started: it would wait forever
            server.server_close()
        listener.close()
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=10)
        if shopify is not None:
            shopify.stop()
        if app is not None:
            engine(app).dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print_line("Stopped.")
    if broken:
        sys.exit(1)
