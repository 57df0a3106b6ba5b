"""All MongoDB and Redis access: the one place the API, tasks and backtests share."""
