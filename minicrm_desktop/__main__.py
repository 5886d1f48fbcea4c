"""`python -m minicrm_desktop` (and the packaged app): the same as the `minicrm` command."""

import multiprocessing
import sys

from minicrm_desktop.cli.main import main

if __name__ == "__main__":
    # The packaged app starts helper processes (demo data generation) through itself.
    multiprocessing.freeze_support()
    sys.exit(main())
