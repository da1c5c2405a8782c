"""GET /admin/v1/health: whether the exchange takes commands, and why not."""
from __future__ import annotations

from typing import Any

from ...engine import Engine
from ..http import ADMIN, Request, Route


def routes(engine: Engine) -> list[Route]:
    async def health(_: Request) -> Any:
        return engine.health()

    return [Route("GET", "/admin/v1/health", health, ADMIN)]
