"""Editions of a book: the §5 quality ladder, selection of the one best edition, canonical metadata."""
