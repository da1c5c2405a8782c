"""Who listens to which market stream, and publishing to them.

A payload is serialised once per event, and wrapped once more for the connections that
want the combined `{"stream","data"}` form; each connection gets the same string.
"""
from __future__ import annotations

from typing import Any, Callable

import orjson

from .names import Topic


def dumps(payload: Any) -> str:
    return orjson.dumps(payload).decode()


class Hub:
    """Subscribers per stream name (valid names only) and the topics they parsed to."""

    def __init__(self) -> None:
        self.subs: dict[str, dict[Any, None]] = {}  # name -> connections (ordered set)
        self.topics: dict[str, Topic] = {}
        self.on_change: list[Callable[[], None]] = []  # feeds rebuild their trackers

    def add(self, name: str, topic: Topic, conn: Any) -> None:
        subs = self.subs.get(name)
        if subs is None:
            subs = self.subs[name] = {}
            self.topics[name] = topic
            self._changed()
        subs[conn] = None

    def remove(self, name: str, conn: Any) -> None:
        subs = self.subs.get(name)
        if subs is None or conn not in subs:
            return
        del subs[conn]
        if not subs:
            del self.subs[name]
            del self.topics[name]
            self._changed()

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()

    def publish(self, name: str, payload: Any) -> None:
        """Send `payload` to every subscriber of `name` (nothing to do without one)."""
        subs = self.subs.get(name)
        if subs:
            publish_text(name, dumps(payload), subs)


def publish_text(name: str, raw: str, conns: Any) -> None:
    """Push an already serialised event, wrapped for combined connections."""
    wrapped = None
    for conn in conns:
        if conn.combined:
            if wrapped is None:
                wrapped = '{"stream":"%s","data":%s}' % (name, raw)
            conn.push(wrapped)
        else:
            conn.push(raw)
