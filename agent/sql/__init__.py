"""Drafted SQL, checked and run: the guard (read-only by parsing), catalog validation, scan estimates, engines."""

from agent.sql.estimate import ScanEstimate, TableEstimate, estimate_scan
from agent.sql.guard import ParsedQuery, UnsafeSQL, check_read_only
from agent.sql.validate import ValidationIssue, ValidationResult, validate_sql

__all__ = [
    "ParsedQuery",
    "ScanEstimate",
    "TableEstimate",
    "UnsafeSQL",
    "ValidationIssue",
    "ValidationResult",
    "check_read_only",
    "estimate_scan",
    "validate_sql",
]
