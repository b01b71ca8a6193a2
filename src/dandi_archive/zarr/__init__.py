"""Zarr (OME-NGFF) trees: live Zarrs, ingest and checksum tree, freezing for publication,
NGFF inspection and previews."""
