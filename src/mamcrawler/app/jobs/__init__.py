"""Daemon jobs beyond the monitor cycle: §4 category sync, the post-download flow,
§2/§3/§12 metadata jobs and the §14 full scan."""
