"""What the command groups share: naming a shop with `--shop DOMAIN`."""

from __future__ import annotations

import click

from . import shops
from .db import get_session
from .models import Shop
from .signatures import normalize_shop_domain


def shop_named(domain: str) -> Shop:
    """The shop `--shop DOMAIN` names, or a clear command-line error."""
    normalized = normalize_shop_domain(domain)
    if normalized is None:
        raise click.BadParameter(f"{domain!r} is not a shop domain like example.myshopify.com", param_hint="--shop")
    shop = shops.by_domain(get_session(), normalized)
    if shop is None:
        raise click.ClickException(f"no shop {normalized} (see `aftercare shops list`)")
    return shop
