"""Market-stream connections (`/ws...`, `/stream...`) and their live control messages.

SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY answer
`{"result": ..., "id": ...}`; malformed requests get the exact payloads of errors.md §7
(kept in core/errors.py, with our own texts where Binance documents none). A connection
sending more than `messages_per_second` messages in a second is closed (1008).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from ..core.errors import stream_error
from .conn import POLICY, Conn
from .hub import dumps

if TYPE_CHECKING:
    from . import Streams

_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_VARIANTS = ", ".join(f"`{m}`" for m in _METHODS)
_STRING_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_NO_ID = object()


class ControlError(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload["msg"])
        self.payload = payload


def _invalid(name: str, *args: Any) -> ControlError:
    return ControlError(stream_error(name, *args))


def _position(text: str, end: int) -> tuple[int, int]:
    """serde's 1-based line and column of character offset `end`."""
    before = text[:end]
    line = before.count("\n") + 1
    return line, end - (before.rfind("\n") + 1)


class MarketConn(Conn):
    def __init__(self, streams: "Streams", send: Any, ip: str, combined: bool,
                 names: list[str]) -> None:
        super().__init__(send, streams.engine.clock, streams.policy, ip)
        self.streams = streams
        self.combined = combined
        self.names: dict[str, None] = {}  # subscribed stream names, in order
        self.second, self.count = -1, 0  # incoming message rate
        for name in names:
            self._add(name)

    def _add(self, name: str) -> None:
        if name not in self.names:
            self.names[name] = None
            self.streams.subscribe(name, self)

    def push_event(self, name: str, raw: str) -> None:
        """A user data event for the listenKey `name` subscribed here."""
        self.push('{"stream":"%s","data":%s}' % (name, raw) if self.combined else raw)

    def on_close(self) -> None:
        for name in self.names:
            self.streams.unsubscribe(name, self)
        self.names.clear()

    async def on_text(self, text: str) -> None:
        sec = self.clock() // 1000
        if sec != self.second:
            self.second, self.count = sec, 0
        self.count += 1
        if self.count > self.policy.messages_per_second:
            self.close(POLICY, "Too many messages")
            return
        try:
            reply = self.control(text)
        except ControlError as err:
            reply = err.payload
        self.push(dumps(reply))

    # ---------------------------------------------------------------- control protocol
    def control(self, text: str) -> dict[str, Any]:
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError as err:
            raise _invalid("INVALID_JSON", err.lineno, err.colno) from None
        if not isinstance(msg, dict):
            raise _invalid("INVALID_JSON", 1, 1)
        rid = msg.get("id", _NO_ID)
        if rid is _NO_ID:
            rid = None
        elif not (rid is None or (type(rid) is int and -2**63 <= rid < 2**63)
                  or (type(rid) is str and _STRING_ID.fullmatch(rid))):
            raise _invalid("BAD_ID")
        if "method" not in msg:
            line, col = _position(text, len(text.rstrip()))
            raise _invalid("MISSING_METHOD", line, col)
        method, params = msg["method"], msg.get("params")
        if method not in _METHODS:
            raise _invalid("UNKNOWN_VARIANT", method, _VARIANTS, _method_end(text, method))
        handler = {"SUBSCRIBE": self._subscribe, "UNSUBSCRIBE": self._unsubscribe,
                   "LIST_SUBSCRIPTIONS": self._list_subscriptions,
                   "SET_PROPERTY": self._set_property, "GET_PROPERTY": self._get_property}[method]
        return {"result": handler(params, rid), "id": rid}

    def _names(self, params: Any) -> list[str]:
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise _invalid("BAD_PARAMS")
        return params

    def _subscribe(self, params: Any, rid: Any) -> None:
        new = [n for n in dict.fromkeys(self._names(params)) if n not in self.names]
        if len(self.names) + len(new) > self.policy.max_streams:
            raise _invalid("TOO_MANY_PARAMS")
        for name in new:
            self._add(name)

    def _unsubscribe(self, params: Any, rid: Any) -> None:
        for name in self._names(params):
            if self.names.pop(name, _NO_ID) is not _NO_ID:
                self.streams.unsubscribe(name, self)

    def _list_subscriptions(self, params: Any, rid: Any) -> list[str]:
        if params:
            raise _invalid("TOO_MANY_PARAMS")
        return list(self.names)

    def _property(self, params: Any, rid: Any, size: int) -> str:
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            raise _invalid("PROPERTY_NAME")
        if len(params) > size:
            raise _invalid("TOO_MANY_PARAMS")
        if params[0] != "combined":
            raise ControlError({**stream_error("UNKNOWN_PROPERTY"), "id": rid})
        return params[0]

    def _set_property(self, params: Any, rid: Any) -> None:
        self._property(params, rid, 2)
        if len(params) < 2 or type(params[1]) is not bool:
            raise _invalid("EXPECTED_BOOLEAN")
        self.combined = params[1]

    def _get_property(self, params: Any, rid: Any) -> bool:
        self._property(params, rid, 1)
        return self.combined


def _method_end(text: str, method: Any) -> str:
    """'<line> column <col>' just after the method's value, as serde reports it."""
    key = text.find('"method"')
    value = orjson.dumps(method).decode()
    at = text.find(value, key + 8) if key >= 0 else -1
    end = at + len(value) if at >= 0 else len(text)
    line, col = _position(text, end)
    return f"{line} column {col}"
