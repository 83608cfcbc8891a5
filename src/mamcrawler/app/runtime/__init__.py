"""The running process: settings, wiring, the daemon and its cycle, the policy keeper, logging."""
