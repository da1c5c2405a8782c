"""One WebSocket connection over ASGI: a bounded outbox drained by its own writer task.

Events are pushed synchronously by the engine's live listeners and sent by the writer
when the loop gets to it. A client that reads slower than its events arrive is
disconnected once `max_queued_bytes` wait for it, and its backlog is dropped: memory stays
bounded whatever a client does. Ping/pong frames are the ASGI server's job (uvicorn's
ws_ping_interval / ws_ping_timeout, set from the same [streams] policy).
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable

from ..config import StreamPolicy

log = logging.getLogger("spotex.streams")

Send = Callable[[dict], Awaitable[None]]
Receive = Callable[[], Awaitable[dict]]

NORMAL, GOING_AWAY, POLICY = 1000, 1001, 1008  # close codes


class Conn:
    """Subclasses handle incoming text in `on_text` and clean up in `on_close`."""

    combined = False  # market streams: wrap events as {"stream","data"}

    def __init__(self, send: Send, clock: Callable[[], int], policy: StreamPolicy,
                 ip: str) -> None:
        self.send = send
        self.clock = clock
        self.policy = policy
        self.ip = ip
        self.opened = clock()
        self.out: deque[str] = deque()
        self.queued = 0  # characters waiting in `out`
        self.wake = asyncio.Event()
        self.closed = False
        self.closing: tuple[int, str] | None = None  # close frame to send once drained
        self.writer: asyncio.Task | None = None

    # ---------------------------------------------------------------- outgoing
    def push(self, text: str) -> None:
        """Queue one message; a client too far behind is disconnected instead."""
        if self.closed:
            return
        self.queued += len(text)
        if self.queued > self.policy.max_queued_bytes:
            log.warning("closing a slow client %s (%d bytes waiting)", self.ip, self.queued)
            self.close(POLICY, "Client too slow", drop=True)
            return
        self.out.append(text)
        self.wake.set()

    async def _write(self) -> None:
        out, send = self.out, self.send
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while out:
                    text = out.popleft()
                    self.queued -= len(text)
                    await send({"type": "websocket.send", "text": text})
                if self.closing is not None:
                    await self._send_close(*self.closing)
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away: the receive loop sees it and cleans up
            self.closed = True
            self.out.clear()
            self.queued = 0

    def close(self, code: int = NORMAL, reason: str = "", drop: bool = False) -> None:
        """Close the connection after what is already queued (callable synchronously from
        any task); `drop`: discard the queue and close now (a client too slow to drain it)."""
        if self.closed:
            return
        self.closed = True
        if drop or self.writer is None or self.writer.done():
            self.out.clear()
            self.queued = 0
            if self.writer is not None:
                self.writer.cancel()
            asyncio.get_running_loop().create_task(self._send_close(code, reason))
        else:
            self.closing = (code, reason)
            self.wake.set()

    async def _send_close(self, code: int, reason: str) -> None:
        try:
            await self.send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:  # already gone
            pass

    # ---------------------------------------------------------------- incoming
    async def run(self, receive: Receive) -> None:
        """Accept, then hand each text frame to `on_text` until the client leaves."""
        try:  # the accept too: subscriptions made at open are undone however it ends
            await self.send({"type": "websocket.accept"})
            self.writer = asyncio.get_running_loop().create_task(self._write())
            while True:
                msg = await receive()
                kind = msg["type"]
                if kind == "websocket.receive":
                    if not self.closed:
                        text = msg.get("text")
                        if text is None:
                            text = (msg.get("bytes") or b"").decode("utf-8", "replace")
                        await self.on_text(text)
                elif kind == "websocket.disconnect":
                    return
        finally:
            self.closed = True
            if self.writer is not None:
                self.writer.cancel()
            self.on_close()

    async def on_text(self, text: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_close(self) -> None:
        pass
