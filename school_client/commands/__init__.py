"""Subcommands of lrs-school; each module has a ``register(subparsers)`` that adds its own."""
