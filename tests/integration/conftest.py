"""Fixtures shared by all integration directories: the real Audiobookshelf server and its
generated books (``abs_fixtures``), one per session whichever directories run. Helpers live
in uniquely named modules here (``qbit_env``, ``abs_server``, ``abs_books``…), never imported
from a ``conftest`` (several directories have one; ``import conftest`` would pick any)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from abs_fixtures import abs_server, book_template

__all__ = ["abs_server", "book_template"]
