"""Files of a Dandiset: uploads of blobs, assets in a draft, listings and folders."""
