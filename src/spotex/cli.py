"""The `spotex` command: `serve` runs the exchange; `account ...` talks to its admin API."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_DATA = "./spotex-data"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="spotex", description="Self-hosted Binance-compatible spot exchange")
    sub = p.add_subparsers(required=True)
    s = sub.add_parser("serve", help="start the exchange")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--data-dir", default=DEFAULT_DATA)
    s.add_argument("--config", default=None, help="TOML file (default: built-in demo markets)")
    s.add_argument("--admin-token", default=None, help="default: generated, kept in the data dir")
    s.set_defaults(func=serve)

    a = sub.add_parser("account", help="manage accounts of a running server")
    a.add_argument("--url", default="http://127.0.0.1:8080")
    a.add_argument("--data-dir", default=DEFAULT_DATA, help="where to read the admin token")
    a.add_argument("--admin-token", default=None)
    asub = a.add_subparsers(required=True)
    c = asub.add_parser("create", help="create an account with a new API key")
    c.add_argument("--balance", action="append", default=[], metavar="ASSET=AMOUNT")
    c.add_argument("--key-type", default="HMAC_SHA256", choices=["HMAC_SHA256", "ED25519", "RSA"])
    c.add_argument("--public-key", default=None, help="PEM file (ED25519 / RSA)")
    c.set_defaults(func=account_create)
    for kind in ("deposit", "withdraw"):
        d = asub.add_parser(kind)
        d.add_argument("account_id", type=int)
        d.add_argument("asset")
        d.add_argument("amount")
        d.set_defaults(func=account_transfer, kind=kind)
    sh = asub.add_parser("show")
    sh.add_argument("account_id", type=int)
    sh.set_defaults(func=account_show)
    return p


def serve(args: argparse.Namespace) -> int:
    try:
        import uvloop
        uvloop.install()
    except ImportError:  # pragma: no cover - non-Linux
        pass
    asyncio.run(_serve(args))
    return 0


async def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from .server import build, ensure_demo_account, tune_gc

    server = build(args.data_dir, args.config, args.admin_token)
    demo = await ensure_demo_account(server)
    print(f"spotex: data in {server.data_dir.resolve()}", flush=True)
    if demo:
        print(f"spotex: demo account {demo['accountId']}", flush=True)
        print(f"  API key:    {demo['apiKey']}", flush=True)
        print(f"  secret key: {demo['secretKey']}", flush=True)
    print(f"spotex: admin token in {server.data_dir / 'admin-token'}", flush=True)
    print(f"spotex: listening on http://{args.host}:{args.port}", flush=True)
    tune_gc()
    ws = server.engine.config.streams
    config = uvicorn.Config(server.app, host=args.host, port=args.port, loop="none",
                            http="httptools", lifespan="on", access_log=False,
                            ws="websockets-sansio", ws_per_message_deflate=False,
                            ws_max_size=1 << 20, ws_ping_interval=ws.ping_interval_ms / 1000,
                            ws_ping_timeout=ws.pong_timeout_ms / 1000,
                            proxy_headers=False,  # client IPs: see [limits] trusted_proxy_header
                            log_level="warning")
    await uvicorn.Server(config).serve()


def _token(args: argparse.Namespace) -> str:
    if args.admin_token:
        return args.admin_token
    return (Path(args.data_dir) / "admin-token").read_text().strip()


def _call(args: argparse.Namespace, method: str, path: str, body: dict | None = None) -> int:
    req = urllib.request.Request(args.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {_token(args)}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as resp:
            print(json.dumps(json.loads(resp.read()), indent=2))
            return 0
    except urllib.error.HTTPError as err:
        print(err.read().decode(), file=sys.stderr)
        return 1


def account_create(args: argparse.Namespace) -> int:
    balances = dict(b.split("=", 1) for b in args.balance)
    body: dict = {"balances": balances, "keyType": args.key_type}
    if args.public_key:
        body["publicKey"] = Path(args.public_key).read_text()
    return _call(args, "POST", "/admin/v1/accounts", body)


def account_transfer(args: argparse.Namespace) -> int:
    return _call(args, "POST", f"/admin/v1/accounts/{args.account_id}/{args.kind}",
                 {"asset": args.asset, "amount": args.amount})


def account_show(args: argparse.Namespace) -> int:
    return _call(args, "GET", f"/admin/v1/accounts/{args.account_id}")


if __name__ == "__main__":
    sys.exit(main())
