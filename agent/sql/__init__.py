"""Drafted SQL, checked and run: the guard (read-only by parsing), catalog validation, scan estimates, engines."""
