"""E-mail the archive sends: the outbox written in each change's transaction, the
job that sends it after commit (SMTP, or .eml files without a server), and the texts.

Between ``access`` and ``tasks`` in the layers: the domains above tell it what
happened (an account approved, an owner added, an embargo lifted), and it knows only
the tables and the job queue below it.
"""
