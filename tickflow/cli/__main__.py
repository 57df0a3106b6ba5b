"""``python -m tickflow.cli``: the same as the ``tickflow`` command."""

import sys

from tickflow.cli import main

sys.exit(main())
