"""Timing security for SIGNED requests (`timestamp`, `recvWindow`), general.md §6.4."""
from __future__ import annotations

from spotex.api.params import Params
from spotex.core.errors import ApiError

DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
AHEAD_MS = 1000


def check_timestamp(params: Params, server_time_ms: int | None) -> None:
    """Accept iff timestamp < server + 1000 and server - timestamp <= recvWindow.

    Binance's own rule, verbatim, so clients with slightly fast clocks behave the same;
    raises -1102 / -1131 / -1021 (ahead or too old) otherwise. `server_time_ms` None:
    the operator turned the window off ([clock] check_timestamps = false).
    """
    timestamp = params.long("timestamp", required=True)
    assert timestamp is not None
    recv_window = params.long("recvWindow")
    if recv_window is None:
        recv_window = DEFAULT_RECV_WINDOW
    elif recv_window > MAX_RECV_WINDOW:
        raise ApiError("BAD_RECV_WINDOW")
    if server_time_ms is None:
        return
    if timestamp >= server_time_ms + AHEAD_MS:
        raise ApiError("TIMESTAMP_AHEAD")
    if server_time_ms - timestamp > recv_window:
        raise ApiError("TIMESTAMP_OUTSIDE_RECV_WINDOW")
