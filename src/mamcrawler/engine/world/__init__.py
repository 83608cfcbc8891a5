"""Facts → the world one decision sees: the catalogue of books, candidate releases, completion and derived rows."""
