"""The eval suite: cases, gold facts from the catalogs, scorers, reports and the quality gate."""
