"""The ``odek`` command line."""
