"""Audio adapter: the §13 integrity check (ffmpeg decodes every file) and §11 narrator
detection (faster-whisper on the opening, rapidfuzz against the candidate names)."""

from mamcrawler.adapters.audio.integrity import (
    AUDIO_SUFFIXES,
    FileCheck,
    IntegrityReport,
    check_integrity,
    decoded_seconds,
)
from mamcrawler.adapters.audio.narrator import NarratorDetector, NarratorGuess, match_narrator

__all__ = [
    "AUDIO_SUFFIXES",
    "FileCheck",
    "IntegrityReport",
    "NarratorDetector",
    "NarratorGuess",
    "check_integrity",
    "decoded_seconds",
    "match_narrator",
]
