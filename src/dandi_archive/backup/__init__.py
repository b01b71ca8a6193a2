"""Backups of the embedded archive (``dandi-archive backup`` / ``restore``): the SQLite
database copied with SQLite's online backup, the bucket folder copied with a SHA-256 of
every file, both checked again before a restore changes anything.

Beside ``transfer`` in the layers: it knows the data dir's layout and the database, and
nothing of the domains.
"""
