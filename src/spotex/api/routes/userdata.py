"""listenKey endpoints (endpoints.md §5): create, keep alive and close a user data stream.

USER_STREAM security: the API key only. Keys live in memory (spotex.streams.ListenKeys)
and expire 60 minutes after their last keepalive; unknown or expired keys answer -1125.
"""
from __future__ import annotations

from typing import Any

from ..http import USER_STREAM, Request, Route

PATH = "/api/v3/userDataStream"


def routes(streams: Any) -> list[Route]:
    async def create(req: Request) -> Any:
        return {"listenKey": streams.keys.create(req.account)}

    async def keepalive(req: Request) -> Any:
        streams.keys.keepalive(req.account, req.params.str("listenKey", required=True))
        return {}

    async def close(req: Request) -> Any:
        streams.close_listen_key(req.account, req.params.str("listenKey", required=True))
        return {}

    return [
        Route("POST", PATH, create, USER_STREAM),
        Route("PUT", PATH, keepalive, USER_STREAM),
        Route("DELETE", PATH, close, USER_STREAM),
    ]
