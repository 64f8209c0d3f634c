"""Pure data: references, raw objects, conditions, durations. No I/O and no imports from gitops_sim."""
