"""Handlers the integration tests invoke through the sandbox runtime."""
