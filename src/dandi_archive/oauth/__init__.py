"""The archive as an OAuth 2 / OpenID Connect provider: other applications (JupyterHub,
a lab's portal) sign people in with their archive account and may call the API as them.

The protocol is authlib's authorization server (``provider``); this package supplies what
it stores and whom it serves: registered clients (``clients``), codes and tokens kept by
their hashes (``tokens``), the claims about a person (``claims``) and the key that signs
ID tokens (``signing``). Who may sign in elsewhere is ``access.permissions``' rule.
"""
