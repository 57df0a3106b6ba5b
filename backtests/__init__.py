"""Backtest jobs and parameter sweeps: what a worker does with a job id, with no Celery in sight.

- ``backtests.runs``: what a run is asked to do (a strategy snapshot, a symbol, a range, cash),
  checked up front; loading its candles from MongoDB; what runs and sweep chunks share;
- ``backtests.jobs``: execute a backtest run by id;
- ``backtests.sweeps``: plan a sweep (parameter space, constraint, objective, chunks); execute a chunk by id;
- ``backtests.defaults``: request defaults and limits, importable without the engine.

``tasks.backtests`` wraps the executions in Celery tasks; the API and the CLI
submit through it. docs/backtest-jobs.md describes the whole.
"""
