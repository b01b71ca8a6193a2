"""Embargoed Dandisets: lifting an embargo (and, to come, reviewers and access requests)."""
