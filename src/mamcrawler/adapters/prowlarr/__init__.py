"""Prowlarr: ``/api/v1/search`` with the ``X-Api-Key`` header → release facts."""

from mamcrawler.adapters.prowlarr.client import AUDIOBOOK_CATEGORIES, ProwlarrClient

__all__ = ["AUDIOBOOK_CATEGORIES", "ProwlarrClient"]
