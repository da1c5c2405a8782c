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
from . import datadir
from .api.app import App
from .api.routes import (account, admin, general, health, market, orderlists, simclock,
                         trading, userdata)
from .clock import Clock
from .core import numbers
from .engine import Engine
from .journal import SqliteJournal
from .market import MarketData
from .simdriver import SimDriver
from .streams import Streams

DEMO_FILE = datadir.DEMO_FILE
TOKEN_FILE = datadir.TOKEN_FILE


@dataclass
class Server:
    app: App
    engine: Engine
    data_dir: Path
    admin_token: str
    streams: Streams | None = None
    clock: Clock | None = None  # None: a plain callable given by an in-process test
    sim: SimDriver | None = None


def build(data_dir: str | os.PathLike, config_path: str | None = None,
          admin_token: str | None = None, clock: Callable[[], int] | None = None, *,
          cfg: config_mod.Config | None = None) -> Server:
    """Open (or create) the data folder and rebuild the exchange from its journal.

    `cfg`, when given, is used instead of loading `config_path`. `clock`: the exchange
    clock (default: made from [clock]); a plain callable (tests) runs no timers, so no
    sim. The folder is made private (0700, journal 0600) but not locked: `spotex serve`
    takes the lock (datadir.lock) before it calls this, in-process tests may open a
    folder twice."""
    path = datadir.create(data_dir)
    cfg = cfg if cfg is not None else config_mod.load(config_path)
    if clock is None:
        c = cfg.clock
        clock = Clock(c.mode, c.start_ms, c.speed)
    elif not isinstance(clock, Clock):
        cfg = config_mod.with_flags(cfg, sim=False)
    datadir.create_private_file(path / datadir.JOURNAL_FILE)
    (path / datadir.SNAPSHOTS_DIR).mkdir(mode=datadir.DIR_MODE, exist_ok=True)
    journal = SqliteJournal(str(path / datadir.JOURNAL_FILE))
    journal.open()
    engine = Engine(cfg, journal, clock)
    data = MarketData(s.name for s in cfg.settings.symbols)
    engine.listeners.append(data.on_command)  # before recover(): replay feeds it too
    engine.projections["market"] = data
    engine.recover()
    if isinstance(clock, Clock):
        clock.resume_from(engine.exchange.last_ts)  # a restart continues the journal's time
    engine.apply_config(config_path or "default.toml")  # journaled if it changed
    token = admin_token or _stored_token(path)
    streams = Streams(engine, data)  # after recover(): streams see live commands only
    routes = (general.routes(engine) + market.routes(engine, data) + trading.routes(engine)
              + orderlists.routes(engine) + account.routes(engine) + admin.routes(engine)
              + health.routes(engine)
              + userdata.routes(streams))
    sim = None
    if isinstance(clock, Clock):
        sim = SimDriver(engine, clock, cfg.sim.history_ms)
        routes += simclock.routes(engine, clock)
    app = App(engine, routes, token)
    streams.attach(app)
    if isinstance(clock, Clock):
        if clock.mode != "wall":
            streams.clock = clock  # pushes follow exchange time
        _run_clock(app, clock, sim)
    return Server(app, engine, path, token, streams, clock if isinstance(clock, Clock) else None,
                  sim)


def _run_clock(app: App, clock: Clock, sim: SimDriver | None) -> None:
    """The clock's timers run while the app serves; the sim writes its first-start
    history, then steps on them."""
    def start() -> None:
        if sim is not None:
            sim.start()  # its history before the clock runs: it takes no exchange time
        clock.start()

    async def stop() -> None:
        if sim is not None:
            sim.stop()
        await clock.stop()

    app.on_startup.append(start)
    app.on_shutdown.insert(0, stop)


def _stored_token(path: Path) -> str:
    """The admin token kept in the data folder (made on first start, mode 0600)."""
    f = path / TOKEN_FILE
    if f.exists():
        return f.read_text().strip()
    token = secrets.token_urlsafe(32)
    _write_private(f, token + "\n")
    return token


def _write_private(f: Path, text: str) -> None:
    """Write `text` to a file that is 0600 from its creation on."""
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, datadir.FILE_MODE)
    os.fchmod(fd, datadir.FILE_MODE)  # an older file may have had another mode
    with open(fd, "w", encoding="utf-8") as out:
        out.write(text)


async def ensure_demo_account(server: Server) -> dict | None:
    """On first start (no accounts yet) create the funded demo account, save its keys
    (DEMO_FILE, 0600) and return them; None on later starts."""
    ex = server.engine.exchange
    if any(not ex.is_sim_account(a) for a in ex.accounts):
        return None
    cmd, secret = admin.account_command(
        {"balances": {a: numbers.fmt(v)
                      for a, v in server.engine.config.demo_balances.items()}})
    aid = await server.engine.execute(cmd, lambda aid: aid)
    info = {"accountId": aid, "apiKey": cmd["key"]["api_key"], "secretKey": secret}
    _write_private(server.data_dir / DEMO_FILE, json.dumps(info, indent=2) + "\n")
    return info


def tune_gc() -> None:
    """Long-lived books make full collections slow (measured: p99 7-56 ms with gc on).
    Freeze start-up objects and collect young generations rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
