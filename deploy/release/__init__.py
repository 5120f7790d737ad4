"""Release layout, host operations, retention and journal."""
