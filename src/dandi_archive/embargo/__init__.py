"""Embargoed Dandisets: who may read them besides their owners (readers, access
requests), lifting an embargo (on request or when it ends), and notices about them."""
