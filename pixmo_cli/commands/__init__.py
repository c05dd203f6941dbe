"""One module per area; each defines `register(subparsers)`."""
