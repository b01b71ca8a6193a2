"""Publishing a draft as an immutable version, and the manifests written to the bucket."""
