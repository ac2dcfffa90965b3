"""A generic supervision tree on anyio (placeholder until the service issue)."""
