"""The tracker account's economy in 2026 terms, pure: the wedge value gate and download
terms (``wedge``), VIP purchase steps (``vip_steps``), the hit-and-run forecaster
(``forecast``) and the points planner (``points``). No I/O, no clock, no randomness."""
