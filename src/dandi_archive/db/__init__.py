"""Database: tables, sessions and migrations."""
