"""Our own admin API under /admin/v1 (Bearer token): accounts, keys, deposits, withdrawals,
and the audit of the whole state (asset totals and the state hash)."""
from __future__ import annotations

import secrets
import string
from typing import Any, Collection

import orjson

from ...core import numbers
from ...core.errors import ApiError
from ...core.exchange import Exchange
from ...core.statehash import asset_totals, state_hash
from ...engine import Engine
from ..http import ADMIN, Request, Route
from ..signature import KEY_TYPES, HMAC_SHA256, load_public_key

_ALNUM = string.ascii_letters + string.digits


def random_key() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(64))


def json_body(req: Request) -> dict[str, Any]:
    try:
        doc = orjson.loads(req.raw_body or b"{}")
    except orjson.JSONDecodeError:
        raise ApiError("INVALID_JSON", "body") from None
    if not isinstance(doc, dict):
        raise ApiError("INVALID_JSON", "body")
    return doc


def decimal_field(value: Any, name: str) -> int:
    if not isinstance(value, str):
        raise ApiError("INVALID_PARAMETER", name)
    try:
        return numbers.parse(value)
    except numbers.BadDecimal:
        raise ApiError("INVALID_PARAMETER", name) from None


def config_assets(ex: Exchange) -> set[str]:
    """The assets accounts may hold: the bases and quotes of the exchange's symbols."""
    return {a for s in ex.symbols.values() for a in (s.base, s.quote)}


def _check_asset(asset: str, assets: Collection[str] | None) -> None:
    if assets is not None and asset not in assets:
        raise ApiError("INVALID_PARAMETER", "asset")


def account_command(doc: dict[str, Any], assets: Collection[str] | None = None
                    ) -> tuple[dict[str, Any], str | None]:
    """A create-account command with fresh keys; returns it and the HMAC secret (if any).

    With `assets`, a balance in any other asset is refused (-1130 for 'asset')."""
    key_type = doc.get("keyType", HMAC_SHA256)
    if not isinstance(key_type, str) or key_type not in KEY_TYPES:
        raise ApiError("INVALID_PARAMETER", "keyType")
    balances = doc.get("balances", {})
    if not isinstance(balances, dict):
        raise ApiError("INVALID_PARAMETER", "balances")
    secret, public = None, None
    if key_type == HMAC_SHA256:
        secret = random_key()
    else:
        public = doc.get("publicKey")
        if not isinstance(public, str):
            raise ApiError("INVALID_PARAMETER", "publicKey")
        try:
            load_public_key(public, key_type)
        except (ValueError, TypeError):
            raise ApiError("INVALID_PARAMETER", "publicKey") from None
    for a in balances:
        _check_asset(a, assets)
    cmd = {"t": "account.create",
           "balances": {a: decimal_field(v, f"balances.{a}") for a, v in balances.items()},
           "key": {"api_key": random_key(), "key_type": key_type, "secret": secret,
                   "public_key": public}}
    return cmd, secret


def routes(engine: Engine) -> list[Route]:
    def balances_of(aid: int) -> dict[str, Any]:
        acct = engine.exchange.account(aid)
        return {"accountId": aid, "balances": [
            {"asset": a, "free": numbers.fmt(f), "locked": numbers.fmt(lk)}
            for a, (f, lk) in sorted(acct.balances.items())]}

    def account_id(req: Request) -> int:
        """The {id} of the path; -1130 if it is not an existing account (not the core's
        -2015/401, which would read as a bad admin token)."""
        try:
            aid = int(req.path_args[0])
        except ValueError:
            raise ApiError("INVALID_PARAMETER", "accountId") from None
        if aid not in engine.exchange.accounts:
            raise ApiError("INVALID_PARAMETER", "accountId")
        return aid

    async def create(req: Request) -> Any:
        cmd, secret = account_command(json_body(req), config_assets(engine.exchange))
        aid = await engine.execute(cmd, lambda aid: aid)
        out = {"accountId": aid, "apiKey": cmd["key"]["api_key"]}
        if secret:
            out["secretKey"] = secret
        return out

    async def show(req: Request) -> Any:
        return balances_of(account_id(req))

    def transfer(kind: str):
        async def handler(req: Request) -> Any:
            doc = json_body(req)
            aid = account_id(req)
            asset = doc.get("asset")
            if not isinstance(asset, str) or not asset:
                raise ApiError("MANDATORY_PARAM", "asset")
            _check_asset(asset, config_assets(engine.exchange))
            cmd = {"t": f"account.{kind}", "account": aid, "asset": asset,
                   "amount": decimal_field(doc.get("amount"), "amount")}
            await engine.execute(cmd, lambda b: b)
            return balances_of(aid)
        return handler

    async def state(req: Request) -> Any:
        """The audit: seq, state hash and per-asset totals, read between two commands."""
        ex = engine.exchange
        totals = asset_totals(ex)
        shown = config_assets(ex) | {a for a, t in totals.items() if any(t)}
        assets = {}
        for a in sorted(shown):
            free, locked, fees = totals.get(a, (0, 0, 0))
            assets[a] = {"free": numbers.fmt(free), "locked": numbers.fmt(locked),
                         "fees": numbers.fmt(fees), "total": numbers.fmt(free + locked + fees)}
        return {"seq": ex.seq, "stateHash": state_hash(ex), "assets": assets}

    return [
        Route("POST", "/admin/v1/accounts", create, ADMIN),
        Route("GET", "/admin/v1/accounts/{id}", show, ADMIN),
        Route("POST", "/admin/v1/accounts/{id}/deposit", transfer("deposit"), ADMIN),
        Route("POST", "/admin/v1/accounts/{id}/withdraw", transfer("withdraw"), ADMIN),
        Route("GET", "/admin/v1/state", state, ADMIN),
    ]
