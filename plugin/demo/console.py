"""What the demo prints: the URLs to open, and `aftercare` command lines that
work as printed."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable

from .scenario import DEMO_SHOP

DEV_DEFAULTS = {"SHOPIFY_API_KEY": "dev-api-key", "SHOPIFY_API_SECRET": "dev-api-secret"}


def print_line(message: str) -> None:
    print(message, flush=True)  # at once: whoever reads the demo reads it as it comes


def command_line(*args: str) -> str:
    """An `aftercare` command line that works as printed, pasted into another
    terminal in the same directory: the program as this one was started
    (plain `aftercare` only when that is what the PATH finds), after the
    variables the demo set for itself or was given for its database."""
    program = sys.argv[0] if os.path.basename(sys.argv[0]) == "aftercare" else ""
    if not os.path.isfile(program):  # not started as `aftercare` (tests): the one beside this Python
        program = os.path.join(os.path.dirname(sys.executable), "aftercare")
    on_path = shutil.which("aftercare")
    if on_path and os.path.isfile(program) and os.path.samefile(on_path, program):
        program = "aftercare"
    elif os.path.isabs(program) and os.path.abspath(program).startswith(os.getcwd() + os.sep):
        program = os.path.relpath(program)  # .venv/bin/aftercare, from where the demo was started
    env = [f"{name}={shlex.quote(os.environ[name])}" for name in DEV_DEFAULTS
           if os.environ.get(name) == DEV_DEFAULTS[name]]
    if os.environ.get("AFTERCARE_DATABASE_URL"):
        env.append(f"AFTERCARE_DATABASE_URL={shlex.quote(os.environ['AFTERCARE_DATABASE_URL'])}")
    return " ".join([*env, shlex.quote(program), *map(shlex.quote, args)])


def print_urls(base_url: str, say: Callable[[str], None] = print_line, *, admin: str | None = None) -> None:
    """What to open; one place, so later features add their own lines here."""
    say(f"Aftercare demo running on {base_url}  (Ctrl-C to stop)")
    if admin:
        say(f"  Admin (signed link): {admin}")
    say(f"  Orders (demo view):  {base_url}/demo")
    say(f"  Storefront widget:   {base_url}/demo/storefront")
    say(f"  Orders (JSON):       {base_url}/demo/orders.json")
    say(f"  Webhooks (JSON):     {base_url}/demo/webhooks.json")
    say(f"  Health:              {base_url}/healthz")
    say(f"  Try, in another terminal here: {command_line('orders', 'show', '--shop', DEMO_SHOP, '1001')}")
