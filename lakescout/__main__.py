"""`python -m lakescout`: the same command as `lakescout`."""

from lakescout.cli import main

main()
