"""The production Celery app with a 3-second Redis visibility timeout: ``celery -A tests.jobs.short_visibility``.

When a whole worker dies (main process included), its unacknowledged
messages wait in Redis until another worker's restore sweep finds them older
than the visibility timeout. Production's timeout is an hour (longer than any
backtest); a test cannot wait that long, so its replacement worker runs this
app, identical but for the timeout and a sweep every second.
"""

from tasks import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
