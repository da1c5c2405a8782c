"""Cost of the IP rate limiter on the hot path: admit() + headers() per request.

    python bench/limits.py
"""
from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from spotex import config  # noqa: E402
from spotex.api.ratelimit import IpLimiter  # noqa: E402


def main() -> None:
    cfg = config.load()
    limits = [r for r in cfg.rate_limits]
    big = [type(r)(r.type, r.interval, r.interval_num, 10**12) for r in limits]
    limiter = IpLimiter(big, cfg.limits, lambda: time.time_ns() // 1_000_000)
    ips = [f"10.0.{i // 256}.{i % 256}" for i in range(1000)]
    i = 0

    def one() -> None:
        nonlocal i
        ip = ips[i % 1000]
        i += 1
        limiter.admit(ip, 1)
        limiter.headers(ip)

    n = 200_000
    per = min(timeit.repeat(one, number=n, repeat=3)) / n
    print("command: python bench/limits.py")
    print(f"rate limiter: {per * 1e6:.2f} us per request (admit + headers, 1000 IPs)")


if __name__ == "__main__":
    main()
