"""Development tools shared by `tests/` and `bench/`; not part of the shipped packages.

A benchmark must not import a test module, and both need the same synthetic inputs, so the
generators live here, below both. Nothing in annotation_app, pipelines, pixmo_builders,
training or pixmo_cli may import this package.
"""
