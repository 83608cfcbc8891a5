"""mamcrawler: facts → YAML policies → audited decisions → actions, for an audiobook collection.

The package is layered (see DESIGN.md): ``app → sensors | actuators → adapters | engine →
facts → errors``. Nothing in ``engine`` performs I/O or reads the clock.
"""

__version__ = "0.1.0"
