"""Safe edition swaps on a real filesystem (issue 9): the two losses reproduced on main
— files copied by base name (CD1/01.mp3 overwritten by CD2/01.mp3) and a second swap in
the same second overwriting the held edition — now keep every file; a copy that fails its
check leaves the item untouched; nothing is ever overwritten; a swap interrupted while
copying is rolled back and one interrupted while swapping is finished on restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamcrawler.actuators import swap as swap_module
from mamcrawler.actuators.swap import FileSwapper, NewFile, SwapError, relative_layout


def write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body.encode() * 100)
    return path


def edition(root: Path, files: dict[str, str]) -> list[NewFile]:
    names = [f"Book (2020)/{rel}" for rel in files]
    for name, body in zip(names, files.values(), strict=True):
        write(root / name, body)
    return [NewFile(root / n, rel) for n, rel in zip(names, relative_layout(names), strict=True)]


@pytest.fixture
def item(tmp_path: Path) -> Path:
    folder = tmp_path / "library" / "Author" / "Book"
    write(folder / "old.mp3", "old edition")
    write(folder / "cover.jpg", "cover")
    return folder


def contents(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()[: len(p.read_bytes()) // 100].decode()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_files_with_the_same_base_name_in_different_folders_all_survive(tmp_path: Path, item: Path) -> None:
    new = edition(tmp_path / "torrent", {"CD1/01.mp3": "disc one", "CD2/01.mp3": "disc two"})
    done = FileSwapper(tmp_path / "holding").swap("li_1", item, new, swap_id="li_1-1")
    assert contents(item) == {"CD1/01.mp3": "disc one", "CD2/01.mp3": "disc two", "cover.jpg": "cover"}
    assert contents(done.holding) == {"old.mp3": "old edition"}
    assert (tmp_path / "torrent" / "Book (2020)" / "CD1" / "01.mp3").exists()  # the torrent keeps seeding its copy
    assert not any(p.name.startswith(".mamcrawler-swap") for p in item.parent.iterdir())


def test_two_swaps_of_one_item_in_the_same_second_never_overwrite_the_held_edition(tmp_path: Path, item: Path) -> None:
    swapper = FileSwapper(tmp_path / "holding")
    first = swapper.swap("li_1", item, edition(tmp_path / "t1", {"a.mp3": "second edition"}), swap_id="li_1-7")
    second = swapper.swap("li_1", item, edition(tmp_path / "t2", {"a.mp3": "third edition"}), swap_id="li_1-8")
    assert first.holding != second.holding
    assert contents(first.holding) == {"old.mp3": "old edition"}
    assert contents(second.holding) == {"a.mp3": "second edition"}
    assert contents(item) == {"a.mp3": "third edition", "cover.jpg": "cover"}
    with pytest.raises(SwapError):  # a holding folder is never reused
        swapper.swap("li_1", item, edition(tmp_path / "t3", {"b.mp3": "x"}), swap_id="li_1-8")


def test_a_copy_that_fails_its_check_leaves_the_item_untouched(tmp_path: Path, item: Path) -> None:
    before = contents(item)
    swapper = FileSwapper(tmp_path / "holding", verify=lambda path: "undecodable" if "bad" in path.name else None)
    with pytest.raises(SwapError, match="fails its check"):
        swapper.swap("li_1", item, edition(tmp_path / "t", {"good.mp3": "g", "bad.mp3": "b"}), swap_id="li_1-2")
    assert contents(item) == before
    assert not list(item.parent.glob(".mamcrawler-swap-*"))
    assert swapper.recover() == []


def test_nothing_in_the_item_folder_is_ever_overwritten(tmp_path: Path, item: Path) -> None:
    before = contents(item)
    new = edition(tmp_path / "t", {"01.mp3": "new", "cover.jpg": "another cover"})
    with pytest.raises(SwapError, match="nothing overwritten"):
        FileSwapper(tmp_path / "holding").swap("li_1", item, new, swap_id="li_1-3")
    assert contents(item) == before


def test_unsafe_torrent_paths_are_refused() -> None:
    with pytest.raises(SwapError):
        relative_layout(["../../etc/passwd"])
    assert relative_layout(["Top/CD1/01.mp3", "Top/CD2/01.mp3"]) == ["CD1/01.mp3", "CD2/01.mp3"]
    assert relative_layout(["01.mp3", "02.mp3"]) == ["01.mp3", "02.mp3"]


class Crash(BaseException):
    """The process dies here (nothing after it runs, no clean-up)."""


def test_a_swap_interrupted_while_copying_is_rolled_back(
    tmp_path: Path, item: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = contents(item)
    swapper = FileSwapper(tmp_path / "holding")
    real_stage = FileSwapper._stage

    def dies_while_copying(self: FileSwapper, staging: Path, new_files: list[NewFile]) -> None:
        real_stage(self, staging, new_files[:1])
        raise Crash

    monkeypatch.setattr(FileSwapper, "_stage", dies_while_copying)
    with pytest.raises(Crash):
        swapper.swap("li_1", item, edition(tmp_path / "t", {"1.mp3": "one", "2.mp3": "two"}), swap_id="li_1-4")
    monkeypatch.undo()
    assert list(item.parent.glob(".mamcrawler-swap-*"))  # the crash left its temporary folder
    assert swapper.recover() == [("li_1-4", "rolled_back")]
    assert contents(item) == before
    assert not list(item.parent.glob(".mamcrawler-swap-*"))
    assert swapper.recover() == []


def test_a_swap_interrupted_while_swapping_is_finished_on_restart(
    tmp_path: Path, item: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(item / "Disc 2" / "old2.mp3", "old edition disc two")
    swapper = FileSwapper(tmp_path / "holding")
    calls = {"n": 0}
    real_link = swap_module._link_no_overwrite

    def dies_after_one(src: Path, dst: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash
        real_link(src, dst)

    monkeypatch.setattr(swap_module, "_link_no_overwrite", dies_after_one)
    new = edition(tmp_path / "t", {"CD1/01.mp3": "new one", "CD2/01.mp3": "new two"})
    with pytest.raises(Crash):
        swapper.swap("li_1", item, new, swap_id="li_1-5")
    monkeypatch.undo()
    assert contents(item) == {"CD1/01.mp3": "new one", "cover.jpg": "cover"}  # half-way: one new file in place
    assert swapper.recover() == [("li_1-5", "finished")]
    assert contents(item) == {"CD1/01.mp3": "new one", "CD2/01.mp3": "new two", "cover.jpg": "cover"}
    held = contents(tmp_path / "holding" / "li_1" / "li_1-5")
    assert held == {"Disc 2/old2.mp3": "old edition disc two", "old.mp3": "old edition"}
    assert swapper.recover() == []
