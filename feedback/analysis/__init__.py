"""Analysis: SQL aggregates into sufficient statistics, pure statistics on them, and charts."""
