"""Fetching URLs that come from outside (news feeds, and the images their articles name).

A URL from a feed could point anywhere, the server's own network included (SSRF). So the host
is resolved here, every address it has must be public, and the request goes to that checked
address (the name stays in the Host header and in TLS), so a second lookup cannot answer
differently. Redirects are followed by hand, each hop checked the same way. Bodies stop at a
byte cap and the whole fetch at a deadline (a server dripping a byte at a time never passes a
read timeout). `allow_private` (NEWS_ALLOW_PRIVATE_ADDRESSES) lets tests reach local servers.

Errors are `Refused` with a message safe to log and show operators.
"""

import ipaddress
import socket
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

MAX_REDIRECTS = 3
USER_AGENT = "Blueberry/1.0 (+news reader)"


class Refused(Exception):
    """The URL was not fetched, or its answer not read; the message says why."""


@dataclass
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str  # after redirects


def fetch(url: str, *, max_bytes: int, timeout_s: float, headers: dict | None = None,
          allow_private: bool = False) -> Fetched:  # fmt: skip
    """GET `url` (following up to MAX_REDIRECTS checked redirects); any status comes back."""
    deadline = time.monotonic() + timeout_s
    for _ in range(MAX_REDIRECTS + 1):
        fetched = _fetch_once(url, max_bytes, deadline, headers or {}, allow_private)
        location = fetched.headers.get("location")
        if fetched.status not in (301, 302, 303, 307, 308) or not location:
            return fetched
        url = str(httpx.URL(url).join(location))
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or Refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http and https URLs are fetched")
    if parts.username or parts.password:
        raise Refused("URLs with credentials are not fetched")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def public_address(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to for `host`: its first, once every address it has is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"{host} could not be resolved") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise Refused(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(f"{host} is a private or local address")
    return addresses[0]


# IPv6 ranges that carry an IPv4 address in their last 32 bits and reach it (NAT64, the old
# IPv4-compatible form): what counts is that address. Site-local is deprecated, never public.
_IPV4_INSIDE = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")]
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inside = _ipv4_inside(ip)
        if inside is not None:
            return is_public(str(inside))
        if ip in _SITE_LOCAL:
            return False
    return ip.is_global and not ip.is_multicast


def _ipv4_inside(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]  # the client's address, which the relay reaches
    if any(ip in network for network in _IPV4_INSIDE):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _fetch_once(url: str, max_bytes: int, deadline: float, headers: dict, allow_private: bool) -> Fetched:
    scheme, host, port = check_url(url)
    address = public_address(host, port, allow_private)
    parts = urlsplit(url)
    netloc = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((scheme, f"{netloc}:{port}", parts.path or "/", parts.query, ""))
    request_headers = {"User-Agent": USER_AGENT, **headers, "Host": parts.netloc.rsplit("@", 1)[-1],
                       "Accept-Encoding": "gzip"}  # the one encoding read here, within the cap  # fmt: skip
    left = deadline - time.monotonic()
    if left <= 0:
        raise Refused("timed out")
    try:
        with httpx.Client(timeout=left, follow_redirects=False) as client:
            request = client.build_request("GET", pinned, headers=request_headers,
                                           extensions={"sni_hostname": host})  # fmt: skip
            reply = client.send(request, stream=True)
            try:
                body = _read_capped(reply, max_bytes, deadline) if reply.status_code == 200 else b""
            finally:
                reply.close()
            return Fetched(reply.status_code, reply.headers, body, url)
    except httpx.TimeoutException:
        raise Refused("timed out") from None
    except httpx.HTTPError as error:
        raise Refused(f"could not be reached ({type(error).__name__})") from None


def _read_capped(reply: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """The body, decompressed here chunk by chunk so that the cap holds for what it expands to
    (a few kilobytes of gzip can hold gigabytes)."""
    declared = reply.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise Refused(f"larger than {max_bytes} bytes")
    decode = _decoder(reply.headers.get("content-encoding", ""))
    body = bytearray()
    for chunk in reply.iter_raw():
        body += decode(chunk, max_bytes + 1 - len(body))
        if len(body) > max_bytes:
            raise Refused(f"larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise Refused("timed out")
    return bytes(body)


def _decoder(encoding: str):
    """(chunk, room) → at most `room` bytes of the body; Refused for an encoding we did not ask for."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return lambda chunk, room: chunk
    if encoding in ("gzip", "x-gzip"):
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        return lambda chunk, room: _inflate(inflate, chunk, room)
    raise Refused(f"sent {encoding[:20]}-encoded, which is not read")


def _inflate(inflate, chunk: bytes, room: int) -> bytes:
    try:
        return inflate.decompress(chunk, max(room, 1))
    except zlib.error:
        raise Refused("sent broken gzip") from None
