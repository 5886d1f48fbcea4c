"""The app's plumbing, shared by every feature and imported module by module; it imports no
feature. Its face is its modules:

- `database`, `migrate`: opening the database (URL, TLS, engine tuning) and its schema.
- `settings`, `paths`, `secrets`, `redact`: typed settings, where files live, secrets kept
  out of plain text and out of messages.
- `tasks`, `bus`, `changes`: work off the GUI thread, app-wide events, other processes'
  changes noticed.
- `csv_export`, `local_http`, `file_lock`, `retry`: the one CSV writer, the loopback HTTP
  server on a thread, a lock between processes, a transaction retried after a lost race.
- `faces`: the lazy public faces feature folders use.
"""
