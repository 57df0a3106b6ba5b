"""The production Celery app with a 3-second Redis visibility timeout: ``celery -A tests.backtests.short_visibility``.

When a whole worker dies (main process included), its unacknowledged
messages wait in Redis until another worker's restore sweep finds them older
than the visibility timeout. Production's timeout is 30 s with a sweep every
second (``tasks.celery_app``); this app is identical but for a 3-second
timeout, so that tests of jobs longer than the timeout take seconds. Backtest
tasks renew their lease every timeout / 6 seconds, here 0.5 s. Stages pause as in
``tests.backtests.stage_delay``.
"""

from tests.backtests.stage_delay import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
