"""spotex.market: market-data read models derived from the engine's trades and books.

`MarketData` is an engine listener and projection: it sees every applied command (live
and on journal replay) and is saved in snapshots, so it survives restarts. Requests
read it without scanning history. Memory is bounded per symbol:

* trades and aggregate trades: the latest 10,000 of each (up to 11,000 between trims);
  `historicalTrades`/`aggTrades` cannot reach further back;
* klines: one series per interval of the candles that had trades, the latest 5,000 of
  each interval (1m keeps 10,200, covering the 7-day rolling window; up to 1/8 more
  between trims); gaps are filled
  with flat zero-volume candles when read. Time zones that move an interval's
  boundaries are served by merging a finer series, so their reach is that series';
* tickers (24hr, rolling window, trading day) are summed from the 1m/1h/1d series at
  minute resolution: a window opens at the start of a minute, as GET /ticker documents.
  24hr uses the same rule (Binance's is exact to the millisecond);
* the depth is read from the live book; `lastUpdateId` counts the commands applied to
  the symbol (any of them may change the book).
"""
from .projection import MarketData, SymbolMarket

__all__ = ["MarketData", "SymbolMarket"]
