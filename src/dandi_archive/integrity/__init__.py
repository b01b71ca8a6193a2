"""Keeping the archive sound: fixity of stored bytes, verifying manifests from the bucket
alone, the consistency check, and the sweep that re-queues work lost to a crash."""
