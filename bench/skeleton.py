"""The measuring stick for bench/order_path.py: the same HTTP server (uvicorn + uvloop +
httptools, a raw ASGI app) doing only the unavoidable work of a signed order: read the
form, check the HMAC, answer a fixed ~600-byte FULL order response with orjson."""
from __future__ import annotations

import hashlib
import hmac
import sys

import orjson
import uvicorn

from spotex.api.params import parse_form
from spotex.api.signature import signed_payload

KEYS: dict[str, bytes] = {}
RESPONSE = orjson.dumps({
    "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
    "transactTime": 1507725176595, "price": "50000.00000000", "origQty": "0.01000000",
    "executedQty": "0.01000000", "origQuoteOrderQty": "0.00000000",
    "cummulativeQuoteQty": "500.00000000", "status": "FILLED", "timeInForce": "GTC",
    "type": "LIMIT", "side": "BUY", "workingTime": 1507725176595,
    "fills": [{"price": "50000.00000000", "qty": "0.00500000", "commission": "0.00000500",
               "commissionAsset": "BTC", "tradeId": 56},
              {"price": "50000.00000000", "qty": "0.00500000", "commission": "0.00000500",
               "commissionAsset": "BTC", "tradeId": 57}],
    "selfTradePreventionMode": "NONE"})
HEADERS = [(b"content-type", b"application/json;charset=UTF-8"),
           (b"content-length", str(len(RESPONSE)).encode())]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if scope["method"] == "GET":  # readiness probe
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})
        return
    text = body.decode("latin-1")
    params = parse_form(text)
    key = next(v for k, v in scope["headers"] if k == b"x-mbx-apikey").decode()
    payload, sig = signed_payload("", text)
    ok = hmac.compare_digest(hmac.new(KEYS[key], payload.encode(), hashlib.sha256).hexdigest(), sig)
    status = 200 if ok and params.get("symbol") else 400
    await send({"type": "http.response.start", "status": status, "headers": HEADERS})
    await send({"type": "http.response.body", "body": RESPONSE})


def main() -> None:
    port, keyfile = int(sys.argv[1]), sys.argv[2]
    for line in open(keyfile):
        k, s = line.split()
        KEYS[k] = s.encode()
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
