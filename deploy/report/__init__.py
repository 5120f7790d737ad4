"""Events, progress and reports."""
