"""The production Celery app with a 3-second visibility timeout.

``celery -A tests.live.live_app worker -Q ingest,strategy,orders`` is what the live tests
run. The short timeout and a restore sweep every second bring back a SIGKILLed worker's
messages within seconds.
"""

from tasks import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
