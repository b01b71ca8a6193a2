"""Helpers for text matching in SQL."""


def like_escape(text: str) -> str:
    """Make ``text`` match literally inside a LIKE pattern (with ``escape="\\\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
