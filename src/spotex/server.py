"""Wiring: data folder -> journal -> engine (recovered) -> ASGI app; the demo account."""
from __future__ import annotations

import gc
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import config as config_mod
from .api.app import App
from .api.routes import account, admin, general, market, orderlists, trading, userdata
from .core import numbers
from .engine import Engine, wall_clock_ms
from .journal import SqliteJournal
from .market import MarketData
from .streams import Streams

DEMO_FILE = "demo-account.json"
TOKEN_FILE = "admin-token"


@dataclass
class Server:
    app: App
    engine: Engine
    data_dir: Path
    admin_token: str
    streams: Streams | None = None


def build(data_dir: str | os.PathLike, config_path: str | None = None,
          admin_token: str | None = None, clock: Callable[[], int] = wall_clock_ms) -> Server:
    """Open (or create) the data folder and rebuild the exchange from its journal."""
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    cfg = config_mod.load(config_path)
    journal = SqliteJournal(str(path / "journal.sqlite"))
    journal.open()
    engine = Engine(cfg, journal, clock)
    data = MarketData(s.name for s in cfg.settings.symbols)
    engine.listeners.append(data.on_command)  # before recover(): replay feeds it too
    engine.projections["market"] = data
    engine.recover()
    token = admin_token or _stored_token(path)
    streams = Streams(engine, data)  # after recover(): streams see live commands only
    routes = (general.routes(engine) + market.routes(engine, data) + trading.routes(engine)
              + orderlists.routes(engine) + account.routes(engine) + admin.routes(engine)
              + userdata.routes(streams))
    app = App(engine, routes, token)
    streams.attach(app)
    return Server(app, engine, path, token, streams)


def _stored_token(path: Path) -> str:
    """The admin token kept in the data folder (made on first start, mode 0600)."""
    f = path / TOKEN_FILE
    if f.exists():
        return f.read_text().strip()
    token = secrets.token_urlsafe(32)
    f.write_text(token + "\n")
    f.chmod(0o600)
    return token


async def ensure_demo_account(server: Server) -> dict | None:
    """On first start (no accounts yet) create the funded demo account; save its keys."""
    f = server.data_dir / DEMO_FILE
    if server.engine.exchange.accounts:
        return json.loads(f.read_text()) if f.exists() else None
    cmd, secret = admin.account_command(
        {"balances": {a: numbers.fmt(v)
                      for a, v in server.engine.config.demo_balances.items()}})
    aid = await server.engine.execute(cmd, lambda aid: aid)
    info = {"accountId": aid, "apiKey": cmd["key"]["api_key"], "secretKey": secret}
    f.write_text(json.dumps(info, indent=2) + "\n")
    f.chmod(0o600)
    return info


def tune_gc() -> None:
    """Long-lived books make full collections slow (PERF-CEILINGS §2b: p99 7-56 ms with gc on).
    Freeze start-up objects and collect young generations rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
