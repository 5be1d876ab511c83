"""The only network code: the HTTP session, the cache, the simple-API client, verified downloads."""
