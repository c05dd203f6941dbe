"""Selectors read state: typed, keyword-only functions named <entity>_<query>."""
