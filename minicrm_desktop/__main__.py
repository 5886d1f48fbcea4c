"""`python -m minicrm_desktop`: the same as the `minicrm` command."""

import sys

from minicrm_desktop.cli.main import main

sys.exit(main())
