"""Long-running processes that are not Celery workers, such as the market-data feeds (``workers.feeds``)."""
