"""Record builders: plain source rows (from the export service) -> `ExportRow`s with exactly the
released columns of one PixMo dataset. Each takes an iterable and yields, so memory stays flat."""
