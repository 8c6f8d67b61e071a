"""``python -m connectors.tiktok_sandbox --port N --data DIR …``."""

import sys

from connectors.tiktok_sandbox.server import main

sys.exit(main())
