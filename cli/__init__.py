"""Entry points: the ``tickflow`` command line (``cli.main``) and what its commands start -- local Redis and
MongoDB (``localservices``), the demo (``demo``) and the feed process (``feed``).

The top layer: it may import every other package, and nothing imports it (docs/architecture.md).
"""
