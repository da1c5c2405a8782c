"""The WAF-style gate in front of everything (general.md §2: HTTP 403).

Our documented rule: a query string longer than `max_query_bytes`, a body longer than
`max_body_bytes`, or an ASCII control character in either (in a body, tab, CR and LF are
whitespace, as in pretty-printed JSON) is refused with 403 before any parsing. It also
picks the client address the IP limits count: the peer, or the `trusted_proxy_header`
value when the peer is one of `trusted_proxies`.
"""
from __future__ import annotations

import re
from typing import Awaitable, Callable

from ..config import LimitPolicy

_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_BODY_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORBIDDEN_HTML = b"<html><body><h2>403 Forbidden</h2></body></html>"


class WafBlock(Exception):
    """The request breaks the WAF rule; answer 403 and stop."""


class Waf:
    def __init__(self, policy: LimitPolicy) -> None:
        self.policy = policy
        self.proxy_header = policy.trusted_proxy_header
        self.proxies = frozenset(policy.trusted_proxies)

    def check_query(self, query: bytes) -> None:
        if len(query) > self.policy.max_query_bytes or _CONTROL.search(query):
            raise WafBlock

    async def read_body(self, receive: Callable[[], Awaitable[dict]]) -> bytes:
        chunks, size, limit = [], 0, self.policy.max_body_bytes
        while True:
            msg = await receive()
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise WafBlock
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        body = b"".join(chunks)
        if body and _BODY_CONTROL.search(body):
            raise WafBlock
        return body

    def client_ip(self, scope: dict, headers: dict[str, str]) -> str:
        peer = (scope.get("client") or ("", 0))[0]
        if self.proxy_header and peer in self.proxies:
            forwarded = headers.get(self.proxy_header, "")
            if forwarded:
                return forwarded.rsplit(",", 1)[-1].strip()  # what the proxy itself saw
        return peer

    @staticmethod
    def response() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return 403, [(b"content-type", b"text/html")], FORBIDDEN_HTML
