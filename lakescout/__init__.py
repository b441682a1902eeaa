"""The `lakescout` command line."""
