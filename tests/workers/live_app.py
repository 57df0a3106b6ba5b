"""The production Celery app with a 3-second visibility timeout.

``celery -A tests.workers.live_app worker -Q ingest,strategy,orders`` is what the live tests
run. Production already sweeps every second with a 30-second timeout
(``tasks.celery_app``), which brings a SIGKILLed worker's messages back well within a
candle period; the tests shorten the timeout only so that they take seconds.
"""

from tasks import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": 3,
}
