"""The in-memory API served over HTTP, so kubectl and the Kubernetes Python client can use it."""
