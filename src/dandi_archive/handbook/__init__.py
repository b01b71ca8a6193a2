"""The handbook: how to find, download, share and publish data here, and how to run the
archive, written in Markdown (``pages/``) and served at ``/handbook/``.

Pages name this instance's own addresses, DOI prefix, licences and contact, substituted
from its settings (:mod:`.values`); the settings reference is generated from
:class:`~dandi_archive.config.Settings` when rendered, so it cannot go stale. Commands
shown in ``console tested`` and ``python tested`` blocks are run by the test suite
against a live archive.
"""
