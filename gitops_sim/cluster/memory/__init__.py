"""The in-memory API server: a faithful store behind the `Cluster` protocol."""
