"""DANDI Hub: a JupyterHub whose people sign in with their archive account.

An entry point like ``cli``: ``dandi-archive hub`` (``launch``) registers the hub as an
OAuth client of the archive (``registration``), finds or installs the proxy
(``proxy``), and runs JupyterHub in-process with ``ArchiveAuthenticator``
(``authenticator``), which lets in approved accounts only, makes administrators hub
admins and starts each notebook server with the person's API key (``environment``).
"Open in hub" links land in a small notebook made for the Dandiset (``notebooks``).
"""
