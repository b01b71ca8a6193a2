"""People: accounts and their approval, passwords, API keys, browser sessions, sign-in
with GitHub/ORCID, and throttling of failed sign-ins."""
