"""`python -m evals`: the eval suite, as `lakescout eval` runs it."""

import sys

from evals.cli import main

sys.exit(main())
