"""Review pages and the admin dashboard (reviewer and admin roles only)."""
