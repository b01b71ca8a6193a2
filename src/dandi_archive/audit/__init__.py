"""The history of every change of a Dandiset: recorded with the change, read by those
who may read the Dandiset."""
