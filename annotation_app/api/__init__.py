"""The REST API: thin classes that parse input, call a service or selector, and serialise."""
