"""Moving an embedded archive (SQLite + the folder store) to PostgreSQL and S3:
``dandi-archive transfer`` copies every row and every object, resumably."""
