"""timestamp / recvWindow acceptance exactly as general.md §6.4."""
from __future__ import annotations

import pytest

from spotex.api.params import Params
from spotex.api.timing import check_timestamp
from spotex.core.errors import ApiError

NOW = 1_700_000_000_000


def check(query: str, now: int = NOW) -> None:
    check_timestamp(Params.from_parts(query, ""), now)


def code_msg(query: str, now: int = NOW) -> tuple[int, str]:
    with pytest.raises(ApiError) as ei:
        check(query, now)
    return ei.value.code, ei.value.msg


AHEAD = (-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
OLD = (-1021, "Timestamp for this request is outside of the recvWindow.")


@pytest.mark.parametrize("ts", [NOW, NOW + 999, NOW - 5000, NOW - 1])
def test_accept_default_window(ts):
    check(f"timestamp={ts}")


def test_ahead_boundary():
    assert code_msg(f"timestamp={NOW + 1000}") == AHEAD
    assert code_msg(f"timestamp={NOW + 10**6}&recvWindow=60000") == AHEAD


def test_old_boundary_default():
    assert code_msg(f"timestamp={NOW - 5001}") == OLD


def test_recv_window():
    check(f"timestamp={NOW - 10000}&recvWindow=10000")
    assert code_msg(f"timestamp={NOW - 10001}&recvWindow=10000") == OLD
    check(f"timestamp={NOW - 60000}&recvWindow=60000")
    check(f"timestamp={NOW}&recvWindow=0")
    assert code_msg(f"timestamp={NOW - 1}&recvWindow=0") == OLD


def test_recv_window_too_big():
    assert code_msg(f"timestamp={NOW}&recvWindow=60001") == (-1131, "recvWindow must be less than 60000")


def test_timestamp_mandatory():
    msg = "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
    assert code_msg("recvWindow=5000") == (-1102, msg)
    assert code_msg("timestamp=") == (-1102, msg)


def test_bad_values():
    assert code_msg("timestamp=abc")[0] == -1100
    assert code_msg(f"timestamp={NOW}&recvWindow=1.5")[0] == -1100


def test_params_from_body():
    check_timestamp(Params.from_parts("", f"timestamp={NOW}&recvWindow=10000"), NOW + 9000)
