"""Bulk loading, shared by the features that write many rows (import, demo data, segment
actions, campaign launch) and imported module by module; it imports no feature:

- `bulk`: executemany straight through the driver (insert, lookup, upsert, delete-in).
- `upsert`: insert-or-update in one statement per batch, on either engine.
- `indexes`: secondary indexes set aside during a large load, always restored.
- `process_pipe`: rows produced in a helper process while this one writes them.
"""
