"""The live trading engine, free of Celery: what the ``tasks.live`` and ``tasks.maintenance`` tasks call.

Ticks arrive in batches (``ticks``) from a feed (``feeds``), are folded into Redis candles
by one Lua script per batch (``ingest``), and each candle close runs the strategies
active on it over the Redis working set of closed candles (``runner``), through the same
position state machine the backtester uses (``positions``), to orders placed once each
(``orders``, ``broker``) and trades archived to MongoDB through a Redis outbox
(``archive``). All state is in Redis; MongoDB holds what is needed to rebuild it
(``recovery``). docs/live-engine.md tells the whole story.

Import the submodules you need: ``workers.ticks`` is light on purpose, for feeds.
"""
