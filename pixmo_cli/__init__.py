"""The `pixmo` command line: a thin door onto the platform's four parts."""
