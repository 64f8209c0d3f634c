"""The scenario language: YAML stories of what happens to a GitOps repository, and the runner."""
