"""The annotator task pages: caption, pointing, ask and compare (the scripts live in static/)."""
