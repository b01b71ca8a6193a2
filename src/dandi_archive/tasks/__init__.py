"""Background jobs, run in-process (embedded default) or on Celery workers."""
