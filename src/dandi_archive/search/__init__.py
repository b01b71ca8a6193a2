"""Full-text and faceted search: the index kept in each change's transaction, and queries."""
