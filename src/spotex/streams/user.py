"""User data: listenKeys and the per-account feed of executionReport, listStatus,
outboundAccountPosition and balanceUpdate.

Events are rendered once per account and command, then pushed to every subscription of
that account: a listenKey stream (`/ws/<listenKey>`, or the key SUBSCRIBEd as a stream
name) or a WebSocket API subscription ({"subscriptionId": N, "event": ...}). Accounts
nobody watches cost one dict lookup per order update.
"""
from __future__ import annotations

import secrets
import string
from typing import Any, Callable

from ..core.errors import ApiError
from .hub import dumps
from .userevents import (account_position, balance_update, execution_report,
                         list_status, listen_key_expired)

_ALNUM = string.ascii_letters + string.digits
_TRANSFERS = {"account.deposit": 1, "account.withdraw": -1}


class ListenKeys:
    """listenKeys, in memory as on Binance: one active key per account, valid for
    `validity_ms` after its creation or last keepalive."""

    def __init__(self, clock: Callable[[], int], validity_ms: int) -> None:
        self.clock = clock
        self.validity = validity_ms
        self.keys: dict[str, list[int]] = {}  # key -> [account, expires at]
        self.of_account: dict[int, str] = {}

    def create(self, account: int) -> str:
        """The account's active key, extended; a new one if it has none."""
        now = self.clock()
        key = self.of_account.get(account)
        rec = self.keys.get(key) if key is not None else None
        if rec is not None and rec[1] > now:
            rec[1] = now + self.validity
            return key
        key = "".join(secrets.choice(_ALNUM) for _ in range(64))
        self.keys[key] = [account, now + self.validity]
        self.of_account[account] = key
        return key

    def _active(self, account: int, key: str) -> list[int]:
        rec = self.keys.get(key)
        if rec is None or rec[0] != account or rec[1] <= self.clock():
            raise ApiError("INVALID_LISTEN_KEY")
        return rec

    def keepalive(self, account: int, key: str) -> None:
        self._active(account, key)[1] = self.clock() + self.validity

    def close(self, account: int, key: str) -> None:
        self._active(account, key)
        del self.keys[key]
        if self.of_account.get(account) == key:
            del self.of_account[account]

    def account_of(self, key: str) -> int | None:
        rec = self.keys.get(key)
        return rec[0] if rec is not None and rec[1] > self.clock() else None

    def expire(self) -> list[str]:
        """Forget the keys whose time is up; returns them (for listenKeyExpired)."""
        now = self.clock()
        gone = [k for k, (_, until) in self.keys.items() if until <= now]
        for key in gone:
            account = self.keys.pop(key)[0]
            if self.of_account.get(account) == key:
                del self.of_account[account]
        return gone


class Sub:
    """One subscription to an account's events: `key` is the listenKey it came with (if
    any); `send` delivers one serialised event."""

    __slots__ = ("conn", "account", "key", "send")

    def __init__(self, conn: Any, account: int, key: str | None, send: Callable[[str], None]) -> None:
        self.conn, self.account, self.key, self.send = conn, account, key, send


class UserFeed:
    def __init__(self) -> None:
        self.subs: dict[int, list[Sub]] = {}
        self.exec_id = 0  # executionReport "I", increasing for the life of the server

    def add(self, sub: Sub) -> None:
        self.subs.setdefault(sub.account, []).append(sub)

    def remove(self, sub: Sub) -> None:
        subs = self.subs.get(sub.account)
        if subs and sub in subs:
            subs.remove(sub)
            if not subs:
                del self.subs[sub.account]

    def with_key(self, key: str) -> list[Sub]:
        return [s for subs in self.subs.values() for s in subs if s.key == key]

    def expire(self, key: str, ts: int) -> None:
        """The key timed out: listenKeyExpired, then nothing more on it."""
        text = dumps(listen_key_expired(key, ts))
        for sub in self.with_key(key):
            sub.send(text)
            self.remove(sub)

    def drop(self, key: str) -> None:
        """The key was closed (DELETE): its streams just stop."""
        for sub in self.with_key(key):
            self.remove(sub)

    # ---------------------------------------------------------------- live commands
    def on_command(self, ex: Any, cmd: dict[str, Any]) -> None:
        subs = self.subs
        if not subs:
            return
        ts = cmd["ts"]
        sign = _TRANSFERS.get(cmd["t"])
        if sign is not None:
            account = cmd["account"]
            if account in subs:
                asset = cmd["asset"]
                self._send(account, [balance_update(asset, sign * cmd["amount"], ts),
                                     account_position(ex.accounts[account], [asset], ts)])
            return
        mine: dict[int, list[tuple]] = {}
        for r in ex.reports:
            account = r[1].account
            if account in subs:
                mine.setdefault(account, []).append(r)
        for account, reports in mine.items():
            self._send(account, self._render(ex, account, reports, ts))

    def _render(self, ex: Any, account: int, reports: list[tuple], ts: int) -> list[dict]:
        """executionReports in order, then listStatus, then the balances they touched."""
        orders, lists, assets = [], [], {}
        for r in reports:
            if r[0] == "LIST":
                lists.append(list_status(r, ts))
                continue
            self.exec_id += 1
            orders.append(execution_report(r, ts, self.exec_id))
            sym = ex.symbols[r[1].symbol]
            assets[sym.base] = assets[sym.quote] = None
        if assets:
            lists.append(account_position(ex.accounts[account], list(assets), ts))
        return orders + lists

    def _send(self, account: int, events: list[dict]) -> None:
        texts = [dumps(e) for e in events]
        for sub in list(self.subs.get(account, ())):
            for text in texts:
                sub.send(text)
