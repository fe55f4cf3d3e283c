"""Radicale storage plugin serving the bridge's event store."""
