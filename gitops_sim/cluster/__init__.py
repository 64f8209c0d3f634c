"""The Kubernetes API as controllers see it (`backend.Cluster`) and its implementations."""
