"""Where mamcrawler writes (issue 9, SPEC §27): the ``.env`` file is never an output —
whatever the spelling (``./.env``, ``sub/../.env``, a symlink, a hard link) and whichever
output (``simulate --json``, ``policy schema --output``, the journal, the database, the
lock file, a log file) — and everything it creates is private: files 0600, folders 0700,
SQLite's ``-wal``/``-shm`` too. Redaction covers nested fields and the rotated cookie."""

from __future__ import annotations

import json
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mamcrawler.app.cli.main import main
from mamcrawler.app.runtime.logs import KnownSecrets, LearningCookies, RedactingJsonFormatter, configure_logging
from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.engine.records import redact
from mamcrawler.errors import CriticalBlock
from mamcrawler.paths import open_private, refuse_env_file
from mamcrawler.store import Database, StateStore, StoredCookie

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "scenarios" / "normal_week.yaml"
SECRET_ENV = "MAM_ID=the-real-cookie\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a .env, a sub-folder, a symlink and a hard link to it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(SECRET_ENV, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.txt").symlink_to(tmp_path / ".env")
    os.link(tmp_path / ".env", tmp_path / "hard.txt")
    for key in [k for k in os.environ if k.startswith("MAMCRAWLER_") or k in ("MAM_ID", "QBIT_URL", "ABS_URL")]:
        monkeypatch.delenv(key)
    return tmp_path


SPELLINGS = [".env", "./.env", "sub/../.env", "link.txt", "hard.txt", "sub/.env"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_simulate_json_never_writes_the_env_file(project: Path, spelling: str) -> None:
    done = CliRunner().invoke(
        main, ["simulate", str(SCENARIO), "--policies", str(ROOT / "policies"), "--json", spelling]
    )

    assert done.exit_code == 1
    assert "critical: env_file_output: --json" in done.output
    assert (project / ".env").read_text() == SECRET_ENV
    assert not (project / "sub" / ".env").exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_policy_schema_output_never_writes_the_env_file(project: Path, spelling: str) -> None:
    done = CliRunner().invoke(main, ["policy", "schema", "--output", spelling])

    assert done.exit_code == 1
    assert "critical: env_file_output: --output" in done.output
    assert (project / ".env").read_text() == SECRET_ENV


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MAMCRAWLER_JOURNAL", ".env"),
        ("MAMCRAWLER_JOURNAL", "sub/../.env"),
        ("MAMCRAWLER_DATABASE_URL", "sqlite:///./.env"),
        ("MAMCRAWLER_DATABASE_URL", "sqlite:///link.txt"),
        ("MAMCRAWLER_LOCK", "hard.txt"),
        ("MAMCRAWLER_HOLDING_DIR", "sub/../.env"),
        ("MAMCRAWLER_LOG_FILE", "./.env"),
    ],
)
def test_settings_pointing_an_output_at_env_are_a_critical_block(
    project: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    monkeypatch.setenv(key, value)

    with pytest.raises(CriticalBlock, match="env_file_output") as caught:
        load_settings(project / ".env")
    done = CliRunner().invoke(main, ["run", "--once", "--no-api"])

    assert key in str(caught.value)
    assert done.exit_code == 1 and f"critical: env_file_output: {key}" in done.output
    assert (project / ".env").read_text() == SECRET_ENV


def test_a_log_file_at_env_is_refused(project: Path) -> None:
    with pytest.raises(CriticalBlock, match="log file"):
        configure_logging([], log_file=Path("sub/../.env"))
    assert (project / ".env").read_text() == SECRET_ENV


def test_other_outputs_are_allowed(project: Path) -> None:
    assert refuse_env_file("sub/decisions.jsonl", "journal") == Path("sub/decisions.jsonl")
    assert refuse_env_file("env.example", "x") == Path("env.example")


def test_store_journal_and_log_files_are_created_private(project: Path) -> None:
    old = os.umask(0o022)  # a typical umask: without care, files come out 0644
    try:
        db = Database(f"sqlite:///{project / 'data' / 'deep' / 'store.sqlite'}")
        StoredCookie(StateStore(db), clock=lambda: datetime.now(UTC)).save("rotated-cookie")
        with open_private(project / "data" / "decisions.jsonl") as out:
            out.write("{}\n")
        done = CliRunner().invoke(
            main, ["simulate", str(SCENARIO), "--policies", str(ROOT / "policies"), "--json", "out/records.jsonl"]
        )
        configure_logging([], log_file=project / "logs" / "mamcrawler.log")
        logging.getLogger("mamcrawler.test").warning("hello")
    finally:
        os.umask(old)
        for handler in logging.getLogger().handlers:
            handler.close()
        logging.getLogger().handlers[:] = []
    store = project / "data" / "deep" / "store.sqlite"
    wal = store.with_name("store.sqlite-wal")
    assert done.exit_code == 0, done.output
    assert mode(store) == 0o600 and wal.exists() and mode(wal) == 0o600
    assert mode(project / "data") == 0o700 and mode(project / "data" / "deep") == 0o700
    assert mode(project / "data" / "decisions.jsonl") == 0o600
    assert mode(project / "out" / "records.jsonl") == 0o600
    assert mode(project / "logs" / "mamcrawler.log") == 0o600
    db.dispose()


def test_an_existing_world_readable_store_is_tightened(project: Path) -> None:
    store = project / "old.sqlite"
    store.touch(mode=0o644)
    os.chmod(store, 0o644)

    Database(f"sqlite:///{store}").dispose()

    assert mode(store) == 0o600


def test_redaction_reaches_nested_fields_and_lists() -> None:
    record = {
        "outcome": {"hash": "abc", "headers": {"Cookie": "mam_id=x", "note": "sent s3cret-value"}},
        "notes": ["plain", "with s3cret-value inside", {"api_key": "k"}],
        "count": 3,
    }

    masked, hidden = redact(record, ["s3cret-value"])

    assert masked == {
        "outcome": {"hash": "abc", "headers": {"Cookie": "***", "note": "sent ***"}},
        "notes": ["plain", "with *** inside", {"api_key": "***"}],
        "count": 3,
    }
    assert hidden == ("notes.1", "notes.2.api_key", "outcome.headers.Cookie", "outcome.headers.note")


class MemoryCookies:
    def __init__(self, value: str | None) -> None:
        self.value = value

    def load(self) -> str | None:
        return self.value

    def save(self, value: str) -> None:
        self.value = value


def test_a_rotated_cookie_is_masked_in_logs_from_the_moment_it_is_saved() -> None:
    secrets = KnownSecrets(["settings-cookie"])
    cookies = LearningCookies(MemoryCookies("stored-cookie-from-last-run"), secrets)
    formatter = RedactingJsonFormatter(secrets)

    def line(msg: str, *args: object, **extra: object) -> dict[str, object]:
        record = logging.LogRecord("mamcrawler.t", logging.INFO, __file__, 1, msg, args, None)
        record.__dict__.update(extra)
        out: dict[str, object] = json.loads(formatter.format(record))
        return out

    assert cookies.load() == "stored-cookie-from-last-run"
    cookies.save("rotated-cookie-2")

    first = line("sent %s then %s", "stored-cookie-from-last-run", "rotated-cookie-2")
    nested = line("answer", response={"set": ["mam_id=rotated-cookie-2"], "session": {"token": "t"}}, n=2)

    assert first["msg"] == "sent *** then ***"
    assert nested["response"] == {"set": ["mam_id=***"], "session": {"token": "***"}}
    assert nested["n"] == 2
    assert "rotated-cookie-2" not in json.dumps(nested)
