"""``python -m cli``: the same as the ``tickflow`` command."""

import sys

from cli import main

sys.exit(main())
