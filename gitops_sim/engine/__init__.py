"""Wiring: the simulation (clock, scheduler, cluster, controllers, queues), events and the trace."""
