"""`python -m lead_scoring.dashboard bundle|serve`: see lead_scoring.dashboard.cli."""

import sys

from lead_scoring.dashboard.cli import main

sys.exit(main())
