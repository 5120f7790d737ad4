"""Database schema compare and sync, journaled migrations and the test-database bounce
(docs/database.md). migra's split: introspect(conn) and desired(sql/) build one model,
diff() orders the changes, render() writes them per dialect."""
