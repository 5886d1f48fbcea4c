"""bulkload."""
