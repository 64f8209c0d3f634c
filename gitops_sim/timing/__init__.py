"""The kernel: clocks, the event scheduler and controller work queues. No Kubernetes knowledge."""
