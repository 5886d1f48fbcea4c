"""`python -m minicrm_desktop` (and the packaged app): the same as the `minicrm` command.

The packaged app also takes `--selftest` (the `selftest` command: checks that this build can
start, one line per check, exit status 0 when all pass).
"""

import multiprocessing
import sys

from minicrm_desktop.packaged import (
    enable_crash_traces,
    packaged_argv,
    use_certifi_without_system_store,
)
from minicrm_desktop.services.core.heap import pause_gc_for_start

if __name__ == "__main__":
    # The packaged app starts helper processes (demo data generation) through itself:
    # such a process runs its work here and exits, so it never pauses the collector.
    multiprocessing.freeze_support()
    pause_gc_for_start()  # before the imports below: they are most of what it saves

from minicrm_desktop.cli.main import main  # noqa: E402 - after the collector is paused

if __name__ == "__main__":
    argv = packaged_argv(sys.argv[1:])
    enable_crash_traces(argv)
    use_certifi_without_system_store()
    sys.exit(main(argv))
