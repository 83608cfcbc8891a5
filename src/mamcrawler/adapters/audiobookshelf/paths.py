"""Where Audiobookshelf's paths are on this machine: ABS often runs in a container that
sees the library at another path (``/audiobooks``) than mamcrawler does
(``/srv/media/audiobooks``). ``ABS_PATH_MAP`` lists ``ABS path=local path`` pairs, comma
separated; the longest matching prefix wins and paths outside every pair are the same on
both sides. Imports nothing of mamcrawler."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

__all__ = ["PathMap"]


class PathMap:
    def __init__(self, pairs: tuple[tuple[str, str], ...] = ()) -> None:
        self.pairs = tuple((PurePosixPath(a), Path(b)) for a, b in pairs)

    @classmethod
    def parse(cls, text: str | None) -> PathMap:
        """``"/audiobooks=/srv/media/audiobooks,/podcasts=/srv/media/podcasts"`` → a map;
        a malformed pair raises ``ValueError`` naming it."""
        pairs = []
        for n, part in enumerate(p.strip() for p in (text or "").split(",")):
            if not part:
                continue
            remote, sep, local = (s.strip() for s in part.partition("="))
            if not sep or not remote.startswith("/") or not local:
                raise ValueError(f"ABS_PATH_MAP pair {n + 1} ({part!r}) is not '<ABS path>=<local path>'")
            pairs.append((remote, local))
        return cls(tuple(pairs))

    def local(self, abs_path: str) -> Path:
        """The local path of a path as Audiobookshelf reports it."""
        path = PurePosixPath(abs_path)
        for remote, local in sorted(self.pairs, key=lambda p: len(p[0].parts), reverse=True):
            if path == remote or remote in path.parents:
                return local / path.relative_to(remote)
        return Path(abs_path)

    def remote(self, local_path: Path) -> str:
        """The path Audiobookshelf knows a local path by."""
        for remote, local in sorted(self.pairs, key=lambda p: len(p[1].parts), reverse=True):
            if local_path == local or local in local_path.parents:
                return str(remote / local_path.relative_to(local).as_posix())
        return str(local_path)
