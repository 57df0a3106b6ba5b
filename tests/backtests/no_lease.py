"""``tests.backtests.short_visibility`` without lease renewal: ``celery -A tests.backtests.no_lease``.

A backtest task renews its message's lease while it runs, so it is not
delivered again however long it takes. This app turns renewal off, so that a
job longer than the 3-second visibility timeout *is* delivered again while it
runs, as it would be should renewals fail in production: what the
first-finisher-wins rule must make harmless.
"""

import tasks.backtests
from tests.backtests.short_visibility import app

tasks.backtests._keepalive = lambda task: None

__all__ = ["app"]
