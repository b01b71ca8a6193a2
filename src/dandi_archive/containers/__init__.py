"""Software containers kept as assets: Apptainer/Singularity SIF images, OCI image
layouts and ``docker save`` archives, recognised by their content and described
without running them (see ``inspect``), then shown and linked as software."""
