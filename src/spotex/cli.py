"""The `spotex` command: `serve` runs the exchange; `account ...` talks to its admin API;
`config ...` checks and shows config files.

A user's mistake is one line on stderr and exit code 2, never a traceback. An answer of
the admin API that is an error is printed as it came (its JSON body) with exit code 1.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import socket
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

from . import datadir, logs

DEFAULT_DATA = "./spotex-data"
DEFAULT_URL = "http://127.0.0.1:8080"
DATA_ENV = "SPOTEX_DATA_DIR"
TOKEN_ENV = "SPOTEX_ADMIN_TOKEN"
USAGE = 2  # exit code of a user's mistake


class CliError(Exception):
    """A mistake of the user's (or of their setup): one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _global_defaults(args)
    try:
        return args.func(args)
    except CliError as err:
        print(f"spotex: {err}", file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C before uvicorn handles it (a long replay)
        return 130
    except Exception as err:
        if not isinstance(err, _config_error()):
            raise
        for line in err.problems:  # "FILE: key.path: message", or what stands in the way
            print(line, file=sys.stderr)
    return USAGE


def _config_error() -> type[Exception]:
    """config.ConfigError; config is imported only when needed (it takes most of a
    second, which `spotex account ...` need not wait)."""
    from . import config

    return config.ConfigError


# ------------------------------------------------------------------- the parser
class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (the usage is one --help away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port (1-65535, or 0 for any free one)")
    return port


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        speed = 0
    if not speed > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a speed above 0 (e.g. 60)")
    return speed


def _balance(text: str) -> tuple[str, str]:
    asset, sep, amount = text.partition("=")
    if not sep or not asset.strip() or not amount.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not ASSET=AMOUNT (e.g. USDT=10000)")
    return asset.strip(), amount.strip()


def _global_options() -> argparse.ArgumentParser:
    """Options every (sub)command takes, before or after its name. Their defaults are
    SUPPRESSed so that a subcommand's parser never overwrites a value given before it;
    `_global_defaults` fills in what was not given at all."""
    g = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    g.add_argument("--url", help=f"the server, for account commands (default {DEFAULT_URL})")
    g.add_argument("--data-dir", help=f"the data folder (default ${DATA_ENV}, else {DEFAULT_DATA})")
    g.add_argument("--admin-token", help=f"admin API token (default ${TOKEN_ENV}; serve: "
                   "else generated and kept in the data folder; account: else read from it)")
    g.add_argument("--log-level", choices=list(logs.LEVELS),
                   help="serve: log records from this level on (default: config, else info)")
    g.add_argument("--log-format", choices=list(logs.FORMATS),
                   help="serve: text lines, or one JSON object a line (default: config, else text)")
    return g


def _global_defaults(args: argparse.Namespace) -> None:
    defaults = {"url": DEFAULT_URL, "data_dir": os.environ.get(DATA_ENV) or DEFAULT_DATA,
                "admin_token": os.environ.get(TOKEN_ENV) or None,
                "log_level": None, "log_format": None}
    for name, value in defaults.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    args.url = args.url.rstrip("/")


def _version() -> str:
    try:
        return metadata.version("spotex")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    g = _global_options()
    p = _Parser(prog="spotex", parents=[g],
                description="Self-hosted Binance-compatible spot exchange")
    p.add_argument("--version", action="version", version=f"spotex {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("serve", parents=[g], help="start the exchange")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=_port, default=8080,
                   help="port to listen on, 0 for any free one (default 8080)")
    s.add_argument("--config", default=None, help="TOML file (default: built-in demo markets)")
    s.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None,
                   help="one log line per request on spotex.access (default: config, else on)")
    s.add_argument("--no-sim", dest="sim", action="store_false", default=None,
                   help="no simulated market: an empty exchange ([sim] enabled = false)")
    s.add_argument("--seed", type=_count, default=None, help="the sim's seed ([sim] seed)")
    s.add_argument("--clock", choices=["wall", "accelerated", "manual"], default=None,
                   help="exchange time: the system's, faster, or moved by hand ([clock] mode)")
    s.add_argument("--speed", type=_speed, default=None,
                   help="accelerated clock: exchange seconds per real second ([clock] speed)")
    s.add_argument("--start", default=None, metavar="TIME",
                   help="where exchange time starts on a first start, e.g. "
                        "2024-03-01T00:00:00Z ([clock] start)")
    s.set_defaults(func=serve)

    a = sub.add_parser("account", parents=[g], help="manage accounts of a running server")
    asub = a.add_subparsers(dest="action", metavar="COMMAND", required=True)
    c = asub.add_parser("create", parents=[g], help="create an account with a new API key")
    c.add_argument("--balance", action="append", default=[], type=_balance, metavar="ASSET=AMOUNT")
    c.add_argument("--key-type", default="HMAC_SHA256", choices=["HMAC_SHA256", "ED25519", "RSA"])
    c.add_argument("--public-key", default=None, help="PEM file (ED25519 / RSA)")
    c.set_defaults(func=account_create)
    for kind in ("deposit", "withdraw"):
        d = asub.add_parser(kind, parents=[g], help=f"{kind} an amount of an asset")
        d.add_argument("account_id", type=int)
        d.add_argument("asset")
        d.add_argument("amount")
        d.set_defaults(func=account_transfer, kind=kind)
    sh = asub.add_parser("show", parents=[g], help="an account's balances")
    sh.add_argument("account_id", type=int)
    sh.set_defaults(func=account_show)

    _sim_parsers(sub, g)

    cf = sub.add_parser("config", parents=[g], help="check or show a config file")
    csub = cf.add_subparsers(dest="action", metavar="COMMAND", required=True)
    ck = csub.add_parser("check", parents=[g], help="validate FILE: 'FILE: ok', or its problems")
    ck.add_argument("file", metavar="FILE")
    ck.set_defaults(func=config_check)
    cs = csub.add_parser("show", parents=[g], help="print the effective config as TOML")
    cs.add_argument("--config", default=None, help="TOML file (default: the built-in one)")
    cs.set_defaults(func=config_show)
    return p


# ------------------------------------------------------------------- config
def config_check(args: argparse.Namespace) -> int:
    from . import config

    config.load(args.file)  # ConfigError: its lines, exit 2 (main)
    print(f"{args.file}: ok")
    return 0


def config_show(args: argparse.Namespace) -> int:
    from . import config

    print(config.to_toml(config.load(args.config)), end="")
    return 0


# ------------------------------------------------------------------- serve
def serve(args: argparse.Namespace) -> int:
    """Everything that can be the user's mistake happens before the exchange starts, in
    this order: config, logs, data folder (lock, then its modes), port."""
    from . import config

    os.umask(0o077)  # every file and folder made from here on is the owner's alone
    cfg = config.load(args.config)  # ConfigError: its lines, exit 2 (main)
    cfg = config.with_flags(cfg, sim=args.sim, seed=args.seed, clock=args.clock,
                            speed=args.speed,
                            start_ms=config.parse_time(args.start) if args.start else None)
    # the flags over the config's [logging] (the app reads access_log from it too)
    flags = {"level": args.log_level, "format": args.log_format, "access_log": args.access_log}
    cfg.logging = dataclasses.replace(cfg.logging, **{k: v for k, v in flags.items() if v is not None})
    logs.setup(cfg.logging.level, cfg.logging.format, cfg.logging.access_log)
    folder = Path(args.data_dir)
    try:
        datadir.create(folder)
        lock = datadir.lock(folder)
    except datadir.FolderInUse as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(f"cannot use the data folder {folder}: {err.strerror or err}") from None
    for warning in datadir.secure(folder):
        print(f"spotex: warning: {warning}", file=sys.stderr, flush=True)
    sock = _bind(args.host, args.port)
    try:
        import uvloop
        uvloop.install()
    except ImportError:  # pragma: no cover - non-Linux
        pass
    try:
        asyncio.run(_serve(args, cfg, sock))
    finally:
        sock.close()
        lock.release()
    return 0


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now (a port in use is the user's to fix) and put in
    the listening state only when the exchange is ready (connections are refused, not
    left hanging, while the journal replays)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise CliError(f"cannot listen on {_host_port(host, port)}: {_reason(err)}") from None
    return sock


def _reason(err: OSError) -> str:
    text = err.strerror or str(err)
    return text[:1].lower() + text[1:]


async def _serve(args: argparse.Namespace, cfg: Any, sock: socket.socket) -> None:
    import uvicorn

    from .datadir import DEMO_FILE, TOKEN_FILE
    from .engine import RecoveryError
    from .server import build, ensure_demo_account, tune_gc

    try:
        server = build(args.data_dir, args.config, args.admin_token, cfg=cfg)
    except RecoveryError as err:  # a journal this version cannot replay
        raise CliError(str(err)) from None
    demo = await ensure_demo_account(server)
    print(f"spotex: data in {server.data_dir.resolve()}", flush=True)
    if demo:
        print(f"spotex: demo account {demo['accountId']}", flush=True)
        print(f"  API key:    {demo['apiKey']}", flush=True)
        print(f"  secret key: {demo['secretKey']}", flush=True)
    elif (server.data_dir / DEMO_FILE).exists():
        print(f"spotex: demo account keys in {(server.data_dir / DEMO_FILE).resolve()}", flush=True)
    if args.admin_token:
        print("spotex: admin token as given (--admin-token or $SPOTEX_ADMIN_TOKEN)", flush=True)
    else:
        print(f"spotex: admin token in {(server.data_dir / TOKEN_FILE).resolve()}", flush=True)
    _say_market(server)
    host, port = sock.getsockname()[:2]
    try:
        sock.listen(2048)
    except OSError as err:
        await server.engine.close()
        raise CliError(f"cannot listen on {_host_port(host, port)}: {_reason(err)}") from None
    tune_gc()
    ws = server.engine.config.streams
    config = uvicorn.Config(server.app, host=args.host, port=port, loop="none",
                            http="httptools", lifespan="on", access_log=False,
                            ws="websockets-sansio", ws_per_message_deflate=False,
                            ws_max_size=1 << 20, ws_ping_interval=ws.ping_interval_ms / 1000,
                            ws_ping_timeout=ws.pong_timeout_ms / 1000,
                            proxy_headers=False,  # client IPs: see [limits] trusted_proxy_header
                            log_config=None, log_level=None)  # logs.setup has done it
    listening = f"spotex: listening on http://{_host_port(args.host, port)}"
    await _uvicorn_server()(config, listening).serve(sockets=[sock])


def _say_market(server: Any) -> None:
    """One line on the clock, one on the sim: what kind of market this is."""
    clock = server.clock
    if clock is not None and clock.mode != "wall":
        speed = f" x{clock.speed:g}" if clock.mode == "accelerated" else ""
        print(f"spotex: clock {clock.mode}{speed}, exchange time "
              f"{_iso_ms(clock())}", flush=True)
    sim = server.engine.exchange.sim
    if sim is not None and sim.enabled:
        print(f"spotex: simulated market on {', '.join(sim.markets)} (seed "
              f"{sim.settings.seed})", flush=True)
    else:
        print("spotex: no simulated market (empty books)", flush=True)


def _iso_ms(ms: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds") \
        .replace("+00:00", "Z")


def _uvicorn_server() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """Says "listening" once it serves: the socket is accepting and SIGTERM/SIGINT
        stop it gracefully (a test or supervisor may stop it at once)."""

        def __init__(self, config: uvicorn.Config, listening: str) -> None:
            super().__init__(config)
            self.listening = listening

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                print(self.listening, flush=True)

    return Server


# ------------------------------------------------------------------- account
def _token(args: argparse.Namespace) -> str:
    if args.admin_token:
        return args.admin_token
    f = Path(args.data_dir) / datadir.TOKEN_FILE
    try:
        token = f.read_text().strip()
    except FileNotFoundError:
        raise CliError(f"no admin token: give --admin-token or ${TOKEN_ENV}, or the server's "
                       f"--data-dir (looked for {f.resolve()})") from None
    except OSError as err:
        raise CliError(f"cannot read the admin token {f.resolve()}: {err.strerror or err}") from None
    if not token:
        raise CliError(f"the admin token file {f.resolve()} is empty")
    return token


def _call(args: argparse.Namespace, method: str, path: str, body: dict | None = None) -> int:
    req = urllib.request.Request(args.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {_token(args)}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
    except urllib.error.HTTPError as err:
        print(err.read().decode(errors="replace"), file=sys.stderr)
        return 1
    except urllib.error.URLError as err:
        reason = err.reason
        why = _reason(reason) if isinstance(reason, OSError) else str(reason)
        raise CliError(f"cannot reach the server at {args.url} ({why})") from None
    except (OSError, ValueError) as err:  # timeouts, resets; a URL urllib cannot use
        why = _reason(err) if isinstance(err, OSError) else str(err)
        raise CliError(f"cannot reach the server at {args.url} ({why or type(err).__name__})") from None
    try:
        print(json.dumps(json.loads(text), indent=2))
    except ValueError:
        raise CliError(f"the server at {args.url} answered something that is not JSON "
                       "(is it spotex?)") from None
    return 0


def account_create(args: argparse.Namespace) -> int:
    body: dict = {"balances": dict(args.balance), "keyType": args.key_type}
    if args.public_key:
        try:
            body["publicKey"] = Path(args.public_key).read_text()
        except (OSError, UnicodeDecodeError) as err:
            why = err.strerror if isinstance(err, OSError) else "not a PEM text file"
            raise CliError(f"cannot read the public key file {args.public_key}: {why}") from None
    elif args.key_type != "HMAC_SHA256":
        raise CliError(f"--key-type {args.key_type} needs --public-key FILE (a PEM public key)")
    return _call(args, "POST", "/admin/v1/accounts", body)


def account_transfer(args: argparse.Namespace) -> int:
    return _call(args, "POST", f"/admin/v1/accounts/{args.account_id}/{args.kind}",
                 {"asset": args.asset, "amount": args.amount})


def account_show(args: argparse.Namespace) -> int:
    return _call(args, "GET", f"/admin/v1/accounts/{args.account_id}")


# ------------------------------------------------------------------- sim and clock
def _sim_parsers(sub: Any, g: argparse.ArgumentParser) -> None:
    sm = sub.add_parser("sim", parents=[g], help="see or steer the simulated market")
    ssub = sm.add_subparsers(dest="action", metavar="COMMAND", required=True)
    ssub.add_parser("show", parents=[g], help="per symbol: reference, spread, maker "
                    "inventory, taker rate").set_defaults(func=sim_show)
    st = ssub.add_parser("set", parents=[g], help="a shock (--price), --volatility, "
                         "--liquidity (0-1 of the ladder), --pause/--resume")
    st.add_argument("symbol")
    st.add_argument("--price", default=None, help="move the reference now (the makers follow)")
    st.add_argument("--volatility", default=None, help='daily, e.g. "0.05"')
    st.add_argument("--liquidity", default=None, help='share of the ladder quoted, e.g. "0.1"')
    st.add_argument("--pause", dest="paused", action="store_const", const=True, default=None)
    st.add_argument("--resume", dest="paused", action="store_const", const=False)
    st.set_defaults(func=sim_set)

    ck = sub.add_parser("clock", parents=[g], help="see or change the exchange clock")
    csub = ck.add_subparsers(dest="action", metavar="COMMAND", required=True)
    csub.add_parser("show", parents=[g], help="mode, time, speed, paused").set_defaults(
        func=clock_show)
    cset = csub.add_parser("set", parents=[g], help="--speed X, --pause or --resume")
    cset.add_argument("--speed", type=_speed, default=None)
    cset.add_argument("--pause", dest="paused", action="store_const", const=True, default=None)
    cset.add_argument("--resume", dest="paused", action="store_const", const=False)
    cset.set_defaults(func=clock_set)
    adv = csub.add_parser("advance", parents=[g], help="manual clock: move time forward "
                          "(e.g. 500ms, 90s, 15m, 2h, 1d); returns once all that was due ran")
    adv.add_argument("duration")
    adv.set_defaults(func=clock_advance)


def sim_show(args: argparse.Namespace) -> int:
    return _call(args, "GET", "/admin/v1/sim")


def sim_set(args: argparse.Namespace) -> int:
    body = {k: getattr(args, k) for k in ("price", "volatility", "liquidity", "paused")
            if getattr(args, k) is not None}
    if not body:
        raise CliError("nothing to set: give --price, --volatility, --liquidity, --pause "
                       "or --resume")
    return _call(args, "POST", f"/admin/v1/sim/{args.symbol}", body)


def clock_show(args: argparse.Namespace) -> int:
    return _call(args, "GET", "/admin/v1/clock")


def clock_set(args: argparse.Namespace) -> int:
    body = {k: getattr(args, k) for k in ("speed", "paused") if getattr(args, k) is not None}
    if not body:
        raise CliError("nothing to set: give --speed, --pause or --resume")
    return _call(args, "POST", "/admin/v1/clock", body)


_UNITS_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def clock_advance(args: argparse.Namespace) -> int:
    text = args.duration.strip()
    unit = next((u for u in ("ms", "s", "m", "h", "d") if text.endswith(u)), "")
    number = text[:len(text) - len(unit)]
    if not unit or not number.isdigit():
        raise CliError(f"{args.duration!r} is not a duration like 500ms, 90s, 15m, 2h or 1d")
    return _call(args, "POST", "/admin/v1/clock/advance", {"ms": int(number) * _UNITS_MS[unit]})


if __name__ == "__main__":
    sys.exit(main())
