"""``python -m connectors.sandbox --port N --data DIR …``: the same as ``lapak sandbox``."""

import sys

from connectors.sandbox.server import main

sys.exit(main())
