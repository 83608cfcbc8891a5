"""The ``mamcrawler`` command line: one module per sub-command group."""
