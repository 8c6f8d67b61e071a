"""The second channel (../shared/tiktok-shop-api.md): :class:`TikTokChannel`, the channel protocol
over a signed, paced, retrying client that authorises shop by shop (:func:`authorize`).

Modules: ``signing`` (request and webhook signatures), ``transport`` (signed exchanges, errors,
retries), ``auth`` (tokens, refreshes, ciphers), ``reads``, ``writes``, ``orders``, ``payloads``
(listings in the contract's words), ``answers`` (lenient answer models), ``settings``.
"""

from connectors.tiktok.channel import TikTokChannel, authorize
from connectors.tiktok.orders import order_of
from connectors.tiktok.payloads import description_html, description_text, package_weight
from connectors.tiktok.reads import product_of
from connectors.tiktok.settings import LIMITS
from connectors.tiktok.signing import sign, sign_url, webhook_ok, webhook_signature

__all__ = [
    "LIMITS",
    "TikTokChannel",
    "authorize",
    "description_html",
    "description_text",
    "order_of",
    "package_weight",
    "product_of",
    "sign",
    "sign_url",
    "webhook_ok",
    "webhook_signature",
]
