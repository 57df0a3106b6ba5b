"""``python -m cli``: the same as the ``tickflow`` command."""

import sys

from cli.main import main

sys.exit(main())
