"""Services change state: typed, keyword-only functions named <entity>_<action>."""
