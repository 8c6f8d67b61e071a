"""Downloading a catalogue from a URL, only from where a catalogue may come.

- ``https://`` only; plain ``http://`` only to a loopback address (tests, the sandbox), and only
  when private addresses are allowed.
- Every address the host name resolves to must be public: private (10/8, 172.16/12,
  192.168/16, fc00::/7), loopback, link-local (169.254/16: cloud metadata), carrier-grade NAT,
  multicast, reserved and unspecified addresses are refused unless the configuration allows
  private addresses (a sheet server on the village office's network).
- Redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each hop checked like the first:
  a published sheet that redirects to ``http://127.0.0.1:…`` reads nothing.
- One deadline for the whole download (:data:`DEADLINE_S`), besides the per-read timeout, and
  the size cap of :data:`connectors.catalogue.sources.MAX_FILE_BYTES`.

Messages name the URL without its query (it may carry a token).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests

from schemas.errors import CatalogueError

MAX_REDIRECTS = 5
DEADLINE_S = 120.0
LOOPBACK_NAMES = ("localhost",)

resolve = socket.getaddrinfo  # looked up at call time: tests of mocked URLs stand in for DNS here


def _refused(name: str, why_id: str, why_en: str) -> CatalogueError:
    return CatalogueError(name, why_id, why_en)


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = resolve(host, None, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, name: str, *, allow_private: bool = False) -> None:
    """Refuse, with a message naming ``name``, a URL a catalogue may not come from."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise _refused(name, "Alamat katalog harus diawali https://", "A catalogue URL must start with https://")
    try:
        addresses = _addresses(host)
    except (OSError, UnicodeError, ValueError):
        raise _refused(name, "Nama server di alamat katalog tidak dikenal; periksa alamatnya",
                       "The catalogue URL's host name is unknown; check the URL") from None
    loopback = bool(addresses) and all(a.is_loopback for a in addresses)
    if scheme == "http" and not (loopback and allow_private):
        raise _refused(name, "Alamat katalog harus diawali https:// (http:// tidak aman)",
                       "A catalogue URL must start with https:// (plain http:// is not safe)")
    if not allow_private and not all(_public(a) for a in addresses):
        raise _refused(name, "Alamat katalog menunjuk ke jaringan dalam (alamat pribadi atau lokal); pakai tautan "
                       "publik Google Sheets (https://)",
                       "The catalogue URL points into a private or local network; use a public https:// link "
                       "(e.g. Google Sheets' published CSV)")


def download(session: requests.Session, url: str, name: str, *, timeout: float, max_bytes: int,
             too_big: type[Exception] | object, allow_private: bool = False,
             deadline_s: float = DEADLINE_S) -> bytes:
    """The body at ``url`` after at most MAX_REDIRECTS checked hops, within ``deadline_s`` in all.

    ``too_big(name, size)`` makes the error for a body over ``max_bytes``; HTTP errors propagate
    as :class:`requests.HTTPError` for the caller to word.
    """
    end = time.monotonic() + deadline_s
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, name, allow_private=allow_private)
        with session.get(url, timeout=timeout, stream=True, allow_redirects=False) as resp:
            if resp.is_redirect and resp.headers.get("location"):
                url = urljoin(url, resp.headers["location"])
                continue
            resp.raise_for_status()
            data = bytearray()
            for chunk in resp.iter_content(1 << 20):
                data += chunk
                if len(data) > max_bytes:
                    raise too_big(name, len(data))  # type: ignore[operator]
                if time.monotonic() > end:
                    raise _refused(name, f"Unduhan katalog lebih dari {deadline_s:.0f} detik; coba lagi nanti",
                                   f"The catalogue download took more than {deadline_s:.0f} s; try again later")
            return bytes(data)
    raise _refused(name, f"Alamat katalog dialihkan lebih dari {MAX_REDIRECTS} kali",
                   f"The catalogue URL redirected more than {MAX_REDIRECTS} times")
