"""Talking to Shopify's Admin API: the GraphQL client with its throttling,
retries and errors (``client``), the OAuth token endpoint's grants
(``tokens``) and the shop-specific webhook subscriptions
(``webhook_subscriptions``). Callers import from those modules; what the app
does with a token or a subscription (storing, refreshing, retrying) lives in
plugin/shops.py, plugin/auth.py and plugin/subscriptions.py.
"""
