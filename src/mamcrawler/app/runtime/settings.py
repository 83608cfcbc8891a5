"""Settings: service URLs, credentials, paths and intervals from the environment or a
``.env`` file (pydantic-settings). mamcrawler only reads ``.env``; it never writes it.
Secrets are ``SecretStr`` so they never print; a missing setting becomes a
``ConfigError`` that lists the exact ``KEY=`` lines to add; an output path (database,
journal, lock, holding folder) that is the ``.env`` file is a ``CriticalBlock``. Policy
never lives here."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from mamcrawler.errors import ConfigError
from mamcrawler.paths import refuse_env_file, sqlite_path

PREFIX = "MAMCRAWLER_"


class Settings(BaseSettings):
    """Everything a running mamcrawler needs that is not policy."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    # qBittorrent (§10) — QBIT_URL / QBIT_USERNAME / QBIT_PASSWORD
    qbit_url: str | None = Field(None, alias="QBIT_URL", description="e.g. http://127.0.0.1:8080")
    qbit_username: str | None = Field(None, alias="QBIT_USERNAME")
    qbit_password: SecretStr | None = Field(None, alias="QBIT_PASSWORD")
    qbit_proxy: str | None = Field(None, alias="QBIT_PROXY", description="Optional proxy URL for qBittorrent.")
    qbit_timeout_seconds: float = Field(10.0, alias="QBIT_TIMEOUT_SECONDS", gt=0)
    qbit_hold_tag: str = Field(
        "mamcrawler-hold",
        alias="MAMCRAWLER_HOLD_TAG",
        min_length=1,
        description="qBittorrent tag a person sets to keep a torrent paused; mamcrawler never resumes it.",
    )
    # the tracker (§1, §4, §7)
    mam_base_url: str = Field("https://www.myanonamouse.net", alias="MAM_BASE_URL")
    mam_id: SecretStr | None = Field(None, alias="MAM_ID", description="The session cookie value.")
    mam_proxy: str | None = Field(None, alias="MAM_PROXY")
    mam_wedge_flag: str = Field(
        "fl",
        alias="MAM_WEDGE_FLAG",
        pattern=r"^[A-Za-z0-9_]+(=[A-Za-z0-9_]*)?$",
        description="The freeleech flag appended to a .torrent link to spend a wedge (fl → download.php?tid=1&fl).",
    )
    mam_auto_wedge: bool = Field(
        False,
        alias="MAM_AUTO_WEDGE",
        description="The account's 'Automatic Freeleech Wedge' preference is on: every paid download spends a wedge.",
    )
    # Prowlarr, Audiobookshelf
    prowlarr_url: str | None = Field(None, alias="PROWLARR_URL")
    prowlarr_api_key: SecretStr | None = Field(None, alias="PROWLARR_API_KEY")
    prowlarr_proxy: str | None = Field(None, alias="PROWLARR_PROXY")
    abs_url: str | None = Field(None, alias="ABS_URL")
    abs_token: SecretStr | None = Field(None, alias="ABS_TOKEN")
    abs_proxy: str | None = Field(None, alias="ABS_PROXY")
    abs_library_id: str | None = Field(
        None, alias="ABS_LIBRARY_ID", description="The book library new downloads go into; empty: the only one."
    )
    abs_path_map: str | None = Field(
        None, alias="ABS_PATH_MAP", description="'<ABS path>=<local path>' pairs, comma separated (ABS in a container)."
    )
    import_new_books: bool = Field(
        False,
        alias="MAMCRAWLER_IMPORT_NEW_BOOKS",
        description="Copy a new book that passed §13 into the Audiobookshelf library and have ABS scan it.",
    )
    import_wait_seconds: float = Field(120.0, alias="MAMCRAWLER_IMPORT_WAIT_SECONDS", gt=0)
    goodreads_url: str | None = Field(
        "https://www.goodreads.com", alias="GOODREADS_URL", description="Book metadata provider; empty: off."
    )
    audnexus_url: str | None = Field(
        "https://api.audnex.us", alias="AUDNEXUS_URL", description="Narrator / Audible metadata source; empty: off."
    )
    holding_dir: Path = Field(
        Path("mamcrawler-data/inferior"),
        alias="MAMCRAWLER_HOLDING_DIR",
        description="Where replaced (inferior) audio files go when they leave the library; never deleted.",
    )
    narrator_detection: bool = Field(
        False, alias="MAMCRAWLER_NARRATOR_DETECTION", description="Transcribe openings to find the narrator (§11)."
    )
    # mamcrawler itself
    database_url: str = Field("sqlite:///mamcrawler-data/mamcrawler.sqlite", alias="MAMCRAWLER_DATABASE_URL")
    policies_dir: Path = Field(Path("policies"), alias="MAMCRAWLER_POLICIES")
    journal_file: Path = Field(Path("mamcrawler-data/decisions.jsonl"), alias="MAMCRAWLER_JOURNAL")
    lock_file: Path = Field(Path("mamcrawler-data/mamcrawler.lock"), alias="MAMCRAWLER_LOCK")
    log_file: Path | None = Field(
        None, alias="MAMCRAWLER_LOG_FILE", description="Append the JSON log lines here (created 0600); unset: stderr."
    )
    evaluator: str = Field("durable", alias="MAMCRAWLER_EVALUATOR", pattern="^(durable|reference)$")
    api_host: str = Field("127.0.0.1", alias="MAMCRAWLER_API_HOST")
    api_port: int = Field(8765, alias="MAMCRAWLER_API_PORT", ge=0, le=65535)
    timezone: str = Field("UTC", alias="MAMCRAWLER_TIMEZONE")
    facts_file: Path | None = Field(
        None, alias="MAMCRAWLER_FACTS_FILE", description="JSON/YAML snapshot fields read each cycle (manual mode)."
    )
    record_days: int = Field(
        30, alias="MAMCRAWLER_RECORD_DAYS", ge=0, description="Days of cycle snapshots kept for replay; 0: none."
    )
    torrent_dir: Path | None = Field(
        None, alias="MAMCRAWLER_TORRENT_DIR", description="Folder of <release id>.torrent files to add from."
    )

    # the web app, the decision journal and notifications (issue 12)
    data_dir: Path = Field(
        Path("mamcrawler-data"), alias="MAMCRAWLER_DATA_DIR", description="The API key file and policies live here."
    )
    api_key: SecretStr | None = Field(
        None, alias="MAMCRAWLER_API_KEY", description="Fixed API key; unset: generated once into the data dir (0600)."
    )
    api_allowed_hosts: str = Field(
        "", alias="MAMCRAWLER_API_ALLOWED_HOSTS", description="Extra Host names the API answers (comma separated)."
    )
    decision_retention_days: int = Field(365, alias="MAMCRAWLER_DECISION_RETENTION_DAYS", ge=1, le=36500)
    apprise_urls: SecretStr | None = Field(
        None, alias="MAMCRAWLER_APPRISE_URLS", description="Apprise notification URLs, separated by spaces or commas."
    )
    quiet_hours: str = Field(
        "", alias="MAMCRAWLER_QUIET_HOURS", pattern=r"^$|^\d\d:\d\d-\d\d:\d\d$", description="e.g. 22:00-07:00"
    )
    alert_unreachable_cycles: int = Field(3, alias="MAMCRAWLER_ALERT_UNREACHABLE_CYCLES", ge=1, le=1000)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        values = (
            self.qbit_password,
            self.mam_id,
            self.prowlarr_api_key,
            self.abs_token,
            self.api_key,
            self.apprise_urls,
        )
        return tuple(v.get_secret_value() for v in values if v is not None and v.get_secret_value())


# feature → the settings it needs (printed as KEY= lines when missing)
REQUIRED = {
    "qbittorrent": ("QBIT_URL", "QBIT_USERNAME", "QBIT_PASSWORD"),
    "tracker": ("MAM_ID",),
    "prowlarr": ("PROWLARR_URL", "PROWLARR_API_KEY"),
    "audiobookshelf": ("ABS_URL", "ABS_TOKEN"),
}
_FIELD_OF = {f.alias: name for name, f in Settings.model_fields.items() if f.alias}


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read settings; invalid values become a ``ConfigError`` naming the key, and an output
    path that is the ``.env`` file a ``CriticalBlock`` (§27)."""
    try:
        settings = Settings(_env_file=env_file)
    except ValidationError as err:
        keys = tuple(str(e["loc"][0]) for e in err.errors())
        details = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"invalid settings: {details}", keys) from None
    check_output_paths(settings, env_file)
    return settings


def check_output_paths(settings: Settings, env_file: Path | None = Path(".env")) -> None:
    """Every path mamcrawler writes to, refused if it is the ``.env`` file (``CriticalBlock``)."""
    database = sqlite_path(settings.database_url)
    outputs = [
        ("MAMCRAWLER_JOURNAL (decisions journal)", settings.journal_file),
        ("MAMCRAWLER_LOCK (lock file)", settings.lock_file),
        ("MAMCRAWLER_HOLDING_DIR (holding folder)", settings.holding_dir),
        *([("MAMCRAWLER_LOG_FILE (log file)", settings.log_file)] if settings.log_file is not None else []),
        *([("MAMCRAWLER_DATABASE_URL (database file)", database)] if database is not None else []),
    ]
    for what, path in outputs:
        refuse_env_file(path, what, env_file)


def missing_for(settings: Settings, feature: str) -> tuple[str, ...]:
    """The keys a feature needs that are unset."""
    return tuple(key for key in REQUIRED[feature] if getattr(settings, _FIELD_OF[key]) in (None, ""))


def require(settings: Settings, *features: str) -> None:
    """Raise ``ConfigError`` listing the ``KEY=`` lines to add for the given features."""
    missing = tuple(k for feature in features for k in missing_for(settings, feature))
    if missing:
        lines = "\n".join(f"{k}=" for k in missing)
        raise ConfigError(f"add these lines to .env (or set them in the environment):\n{lines}", missing)
