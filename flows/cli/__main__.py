"""``python -m flows.cli …``: exactly the ``lapak`` command."""

import sys

from flows.cli import main

sys.exit(main())
