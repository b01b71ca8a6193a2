"""Who may see and change what: Dandisets by account state and ownership, stored blobs
(deduplication under embargo), bucket objects. The rules live here and nowhere else."""
