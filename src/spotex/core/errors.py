"""The one table of Binance error codes and messages, and the error type that carries them.

Every error string in spotex is written here and nowhere else. The core raises
`ApiError`; the API layer renders it as {"code","msg"} with `status`.
"""
from __future__ import annotations

from typing import Any

# name: (code, message template with %s placeholders)
_T = {
    "UNKNOWN": (-1000, "An unknown error occurred while processing the request."),
    "DISCONNECTED": (-1001, "Internal error; unable to process your request. Please try again."),
    "UNAUTHORIZED": (-1002, "You are not authorized to execute this request."),
    "TOO_MANY_REQUESTS": (-1003, "Too much request weight used; current limit is %s request weight per %s. Please use WebSocket Streams for live updates to avoid polling the API."),
    "IP_BANNED": (-1003, "Way too much request weight used; IP banned until %s. Please use WebSocket Streams for live updates to avoid bans."),
    "UNEXPECTED_RESP": (-1006, "An unexpected response was received from the message bus. Execution status unknown."),
    "TIMEOUT": (-1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."),
    "SERVER_BUSY": (-1008, "Server is currently overloaded with other requests. Please try again in a few minutes."),
    "FILTER_FAILURE": (-1013, "Filter failure: %s"),
    "STP_MODE_NOT_ALLOWED": (-1013, "This symbol does not allow the specified self-trade prevention mode."),
    "UNKNOWN_ORDER_COMPOSITION": (-1014, "Unsupported order combination."),
    "TOO_MANY_ORDERS": (-1015, "Too many new orders; current limit is %s orders per %s."),
    "SERVICE_SHUTTING_DOWN": (-1016, "This service is no longer available."),
    "UNSUPPORTED_OPERATION": (-1020, "This operation is not supported."),
    "TIMESTAMP_OUTSIDE_RECV_WINDOW": (-1021, "Timestamp for this request is outside of the recvWindow."),
    "TIMESTAMP_AHEAD": (-1021, "Timestamp for this request was 1000ms ahead of the server's time."),
    "INVALID_SIGNATURE": (-1022, "Signature for this request is not valid."),
    "ILLEGAL_CHARS": (-1100, "Illegal characters found in parameter '%s'; legal range is '%s'."),
    "TOO_MANY_PARAMETERS": (-1101, "Too many parameters; expected '%s' and received '%s'."),
    "DUPLICATE_PARAMETER": (-1101, "Duplicate values for a parameter detected."),
    "TOO_MANY_SYMBOLS": (-1101, "Too many values sent for parameter 'symbols', maximum allowed up to 100."),
    "MANDATORY_PARAM": (-1102, "Mandatory parameter '%s' was not sent, was empty/null, or malformed."),
    "EITHER_PARAM": (-1102, "Param '%s' or '%s' must be sent, but both were empty/null!"),
    "UNKNOWN_PARAM": (-1103, "An unknown parameter was sent."),
    "UNREAD_PARAMETERS": (-1104, "Not all sent parameters were read; read '%s' parameter(s) but was sent '%s'."),
    "PARAM_EMPTY": (-1105, "Parameter '%s' was empty."),
    "PARAM_NOT_REQUIRED": (-1106, "Parameter '%s' sent when not required."),
    "PARAM_OVERFLOW": (-1108, "Parameter '%s' overflowed."),
    "BAD_PRECISION": (-1111, "Parameter '%s' has too much precision."),
    "NO_DEPTH": (-1112, "No orders on book for symbol."),
    "TIF_NOT_REQUIRED": (-1114, "TimeInForce parameter sent when not required."),
    "INVALID_TIF": (-1115, "Invalid timeInForce."),
    "INVALID_ORDER_TYPE": (-1116, "Invalid orderType."),
    "INVALID_SIDE": (-1117, "Invalid side."),
    "EMPTY_NEW_CL_ORD_ID": (-1118, "New client order ID was empty."),
    "EMPTY_ORG_CL_ORD_ID": (-1119, "Original client order ID was empty."),
    "BAD_INTERVAL": (-1120, "Invalid interval."),
    "BAD_SYMBOL": (-1121, "Invalid symbol."),
    "INVALID_SYMBOLSTATUS": (-1122, "Invalid symbolStatus."),
    "INVALID_LISTEN_KEY": (-1125, "This listenKey does not exist."),
    "MORE_THAN_XX_HOURS": (-1127, "More than %s hours between startTime and endTime."),
    "OPTIONAL_PARAMS_BAD_COMBO": (-1128, "Combination of optional parameters invalid."),
    "STOP_LIMIT_TIF_MISSING": (-1128, "Combination of optional parameters invalid. Recommendation: 'stopLimitTimeInForce' should also be sent."),
    "INVALID_PARAMETER": (-1130, "Data sent for parameter '%s' is not valid."),
    "BAD_RECV_WINDOW": (-1131, "recvWindow must be less than 60000"),
    "BAD_STRATEGY_TYPE": (-1134, "strategyType was less than 1000000."),
    "INVALID_JSON": (-1135, "JSON sent for parameter '%s' is not valid"),
    "INVALID_JSON_REQUEST": (-1135, "Invalid JSON Request"),
    "INVALID_TICKER_TYPE": (-1139, "Invalid ticker type."),
    "INVALID_CANCEL_RESTRICTIONS": (-1145, "Invalid cancelRestrictions"),
    "DUPLICATE_SYMBOLS": (-1151, "Symbol is present multiple times in the list."),
    "OCO_ORDER_TYPE_REJECTED": (-1158, "Order type not supported in OCO."),
    "BUY_OCO_LIMIT_MUST_BE_BELOW": (-1165, "A limit order in a buy OCO must be below."),
    "SELL_OCO_LIMIT_MUST_BE_ABOVE": (-1166, "A limit order in a sell OCO must be above."),
    "BOTH_OCO_ORDERS_CANNOT_BE_CONTINGENT": (-1167, "Both OCO orders cannot be contingent."),
    "BOTH_OCO_ORDERS_CANNOT_BE_LIMIT": (-1168, "At least one OCO order must be contingent."),
    "OCO_ICEBERGQTY_TIMEINFORCE": (-1160, "Parameter '%s' is not supported if aboveTimeInForce/belowTimeInForce is not GTC."),
    # -2010 NEW_ORDER_REJECTED messages (engine)
    "DUPLICATE_ORDER": (-2010, "Duplicate order sent."),
    "MARKET_CLOSED": (-2010, "Market is closed."),
    "INSUFFICIENT_BALANCE": (-2010, "Account has insufficient balance for requested action."),
    "MARKET_NOT_SUPPORTED": (-2010, "Market orders are not supported for this symbol."),
    "ICEBERG_NOT_SUPPORTED": (-2010, "Iceberg orders are not supported for this symbol."),
    "STOP_LOSS_NOT_SUPPORTED": (-2010, "Stop loss orders are not supported for this symbol."),
    "STOP_LOSS_LIMIT_NOT_SUPPORTED": (-2010, "Stop loss limit orders are not supported for this symbol."),
    "TAKE_PROFIT_NOT_SUPPORTED": (-2010, "Take profit orders are not supported for this symbol."),
    "TAKE_PROFIT_LIMIT_NOT_SUPPORTED": (-2010, "Take profit limit orders are not supported for this symbol."),
    "LIMIT_MAKER_NOT_SUPPORTED": (-2010, "Unsupported order combination"),
    "LIMIT_NOT_SUPPORTED": (-2010, "Unsupported order combination"),
    "PRICE_QTY_ZERO": (-2010, "Price * QTY is zero or less."),
    "ICEBERG_EXCEEDS_QTY": (-2010, "IcebergQty exceeds QTY."),
    "ACCOUNT_CANNOT_TRADE": (-2010, "This account may not place or cancel orders."),
    "UNSUPPORTED_ORDER_COMBINATION": (-2010, "Unsupported order combination"),
    "WOULD_TRIGGER_IMMEDIATELY": (-2010, "Order would trigger immediately."),
    "WOULD_MATCH_AND_TAKE": (-2010, "Order would immediately match and take."),
    "OCO_BAD_PRICES": (-2010, "The relationship of the prices for the orders is not correct."),
    "OCO_NOT_SUPPORTED": (-2010, "OCO orders are not supported for this symbol"),
    "OTO_NOT_SUPPORTED": (-2010, "OTO orders are not supported for this symbol."),
    "QUOTE_QTY_NOT_SUPPORTED": (-2010, "Quote order qty market orders are not support for this symbol."),
    "TRAILING_NOT_SUPPORTED": (-2010, "Trailing stop orders are not supported for this symbol."),
    "CANCEL_REPLACE_NOT_SUPPORTED": (-2010, "Order cancel-replace is not supported for this symbol."),
    "SYMBOL_NOT_PERMITTED": (-2010, "This symbol is not permitted for this account."),
    "LIQUIDITY_LOT_SIZE": (-2010, "Order book liquidity is less than LOT_SIZE filter minimum quantity."),
    "LIQUIDITY_MARKET_LOT_SIZE": (-2010, "Order book liquidity is less than MARKET_LOT_SIZE filter minimum quantity."),
    "LIQUIDITY_EMPTY_BOOK": (-2010, "Order book liquidity is less than symbol minimum quantity."),
    "NOT_TRADING_PHASE": (-2010, "This order type is not possible in this trading phase."),
    # -2011 CANCEL_REJECTED messages
    "UNKNOWN_ORDER": (-2011, "Unknown order sent."),
    "CANCEL_RESTRICTED": (-2011, "Order was not canceled due to cancel restrictions."),
    "CANCEL_ACCOUNT_CANNOT_TRADE": (-2011, "This account may not place or cancel orders."),
    "NO_SUCH_ORDER": (-2013, "Order does not exist."),
    "ORDER_ARCHIVED": (-2026, "Order was canceled or expired with no executed qty over 90 days "
                              "ago and has been archived."),
    # not in errors.md; the message live Binance gives for an unknown order list
    "NO_SUCH_ORDER_LIST": (-2013, "Order list does not exist."),
    "BAD_API_KEY_FMT": (-2014, "API-key format invalid."),
    "REJECTED_MBX_KEY": (-2015, "Invalid API-key, IP, or permissions for action."),
    "CANCEL_REPLACE_PARTIAL": (-2021, "Order cancel-replace partially failed."),
    "CANCEL_REPLACE_FAILED": (-2022, "Order cancel-replace failed."),
    # WebSocket connections and WebSocket API user data subscriptions
    "TOO_MANY_CONNECTIONS": (-1034, "Too many connection attempts from IP; current limit is %s per '%s'."),
    "SUBSCRIPTION_ACTIVE": (-2035, "User Data Stream subscription already active."),
    "SUBSCRIPTION_INACTIVE": (-2036, "User Data Stream subscription not active."),
}

# HTTP status by code; anything not listed is a 400 (the docs' "4XX" default).
_STATUS = {
    -1000: 500, -1001: 503, -1006: 500, -1007: 503, -1008: 503, -1016: 503,
    -1003: 429, -1015: 429, -2014: 401, -2015: 401, -2021: 409,
}


class ApiError(Exception):
    """A Binance-shaped error: code, exact message, HTTP status, optional data."""

    __slots__ = ("code", "msg", "status", "data", "name", "retry_after")

    def __init__(self, name: str, *args: Any, status: int | None = None,
                 data: Any = None, retry_after: int | None = None) -> None:
        code, template = _T[name]
        msg = template % args if args else template
        super().__init__(msg)
        self.name = name
        self.code = code
        self.msg = msg
        self.status = status if status is not None else _STATUS.get(code, 400)
        self.data = data
        self.retry_after = retry_after  # seconds, sent as the Retry-After header

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            out["data"] = self.data
        return out

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.msg!r})"


def code_of(name: str) -> int:
    return _T[name][0]


# Market-stream control replies (errors.md §7): another protocol, so another table; these
# payloads are {"code", "msg"} with the stream protocol's own small codes.
_STREAM = {
    "UNKNOWN_PROPERTY": (0, "Unknown property"),
    "EXPECTED_BOOLEAN": (1, "Invalid value type: expected Boolean"),
    "PROPERTY_NAME": (2, "Invalid request: property name must be a string"),
    "BAD_ID": (2, "Invalid request: request ID must be an unsigned integer"),
    "UNKNOWN_VARIANT": (2, "Invalid request: unknown variant `%s`, expected one of %s at line %s"),
    "TOO_MANY_PARAMS": (2, "Invalid request: too many parameters"),
    "MISSING_METHOD": (2, "Invalid request: missing field `method` at line %s column %s"),
    # ours: Binance documents no text for params that are not stream names
    "BAD_PARAMS": (2, "Invalid request: params must be an array of stream names"),
    "INVALID_JSON": (3, "Invalid JSON: expected value at line %s column %s"),
}


def stream_error(name: str, *args: Any) -> dict[str, Any]:
    """A market-stream control error payload from the table above."""
    code, template = _STREAM[name]
    return {"code": code, "msg": template % args if args else template}
