"""`python -m gitops_sim` is the `gitops-sim` command."""

import sys

from gitops_sim.cli import main

sys.exit(main())
