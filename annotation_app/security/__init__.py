"""HTTP security: the Content-Security-Policy header and its report endpoint, trusted proxies."""
