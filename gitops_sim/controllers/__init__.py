"""One module per Flux kind. Controllers see only the Cluster protocol, the clock and storage."""
