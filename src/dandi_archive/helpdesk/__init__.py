"""The helpdesk: signed-in users write to the administrators (optionally about a
Dandiset they can see), administrators answer; both sides hear by mail.

A domain above ``dandisets``, ``access`` and ``mail``: it checks who may see what the
question is about and puts the mails in the outbox of the question's own transaction.
"""
