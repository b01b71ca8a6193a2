"""Dandisets and their versions: creation, metadata, folders, validation, DOIs, owners."""
