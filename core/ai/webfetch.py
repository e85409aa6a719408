"""Fetching a company's public website without becoming an SSRF vector.

The host is resolved first and every address must be public (no loopback, private, link-local, metadata,
multicast or reserved range); redirects are followed by hand and each hop is checked again; the body is
read in chunks up to a size cap under a wall-clock deadline. A test-only allowlist (honoured only when
ENVIRONMENT=test) lets tests reach a fake site on 127.0.0.1; nothing is allowed by default.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Collection
from urllib.parse import urljoin, urlsplit

import requests

from core.errors import ConnectorError

CONNECTOR = "website"
MAX_REDIRECTS = 5
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}


class UnsafeAddress(ConnectorError):
    code = "unsafe_address"


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address in _METADATA or address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified
                or address in ipaddress.ip_network("100.64.0.0/10"))  # carrier-grade NAT


def check_url(url: str, *, allow_hosts: Collection[str] = ()) -> None:
    """Raise UnsafeAddress unless the URL is http(s) and its host resolves only to public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress(f"refused {url!r}: only http and https URLs", connector=CONNECTOR, retryable=False)
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConnectorError(f"cannot resolve {host}: {exc}", connector=CONNECTOR, retryable=True) from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not _is_public(address) and str(address) not in allow_hosts and host not in allow_hosts:
            raise UnsafeAddress(f"refused {url!r}: {host} resolves to non-public address {address}",
                                connector=CONNECTOR, retryable=False)


def fetch_public_page(url: str, *, max_bytes: int = 500_000, timeout: float = 5.0,
                      allow_hosts: Collection[str] = (), session: requests.Session | None = None) -> tuple[str, str]:
    """(final URL, text) of a public page; raises UnsafeAddress or ConnectorError."""
    http = session or requests.Session()
    http.trust_env = False  # an environment proxy would fetch on our behalf and bypass the address checks
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, allow_hosts=allow_hosts)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ConnectorError(f"fetching {url} took longer than {timeout:g} s", connector=CONNECTOR,
                                 retryable=True)
        try:
            response = http.get(url, allow_redirects=False, stream=True, timeout=(min(remaining, 3.0), remaining),
                                headers={"User-Agent": "sales-agent-research/1.0", "Accept": "text/html,text/plain"})
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot fetch {url}: {exc}", connector=CONNECTOR, retryable=True) from exc
        with response:
            if response.is_redirect and response.headers.get("location"):
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code >= 400:
                raise ConnectorError(f"{url} answered {response.status_code}", connector=CONNECTOR,
                                     retryable=response.status_code >= 500, status=response.status_code)
            body = bytearray()
            for chunk in response.iter_content(16_384):
                body += chunk
                if len(body) > max_bytes:
                    raise ConnectorError(f"{url} is larger than {max_bytes:,} bytes", connector=CONNECTOR,
                                         retryable=False)
                if time.monotonic() > deadline:
                    raise ConnectorError(f"fetching {url} took longer than {timeout:g} s", connector=CONNECTOR,
                                         retryable=True)
            return url, body.decode(response.encoding or "utf-8", errors="replace")
    raise ConnectorError(f"more than {MAX_REDIRECTS} redirects from {url}", connector=CONNECTOR, retryable=False)
