"""``mamcrawler apikey``: print the web app's API key (the one in ``MAMCRAWLER_API_KEY``, or
the key file in the data directory, made on first use with mode 0600). Imports click and
``app``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.app.web.security import key_path, load_or_create_key
from mamcrawler.errors import ConfigError


def api_key_of(settings_key: str | None, data_dir: Path) -> str:
    return settings_key or load_or_create_key(data_dir)


@click.command()
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=Path(".env"), show_default=True)
def apikey(env_file: Path) -> None:
    """Print the API key that the web app and dashboard ask for (X-Api-Key)."""
    try:
        settings = load_settings(env_file if env_file.is_file() else None)
        fixed = settings.api_key.get_secret_value() if settings.api_key else None
        key = api_key_of(fixed, settings.data_dir)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    click.echo(key)
    where = "MAMCRAWLER_API_KEY" if fixed else str(key_path(settings.data_dir))
    click.echo(f"(from {where}; send it as the X-Api-Key header, or open /?apikey=… once)", err=True)
