"""The bridge's aiohttp web server: ingest API, subscription feeds, admin page, health."""
