"""Authentication as users set it up with Audiobookshelf 2.26+, against the real server: an
API key made in the server and the login token both work (and are told apart, the login
token's expiry and the old-style token earning a warning); a revoked or expired key and
an expired login token are refused with a message that says to fix ABS_TOKEN; a user who
may read but not scan is told so; and the library sensor turns every such refusal — or a
token that sees no book library — into a gap with that warning, never an empty library."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from abs_server import AbsLibraryEnv, audiobookshelf

from mamcrawler.adapters.audiobookshelf import AbsClient, token_advice, token_info
from mamcrawler.errors import ServiceAuthError
from mamcrawler.facts import Source
from mamcrawler.sensors.library import LibrarySensor
from mamcrawler.store import Database, StateStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def sees(url: str, token: str, library_id: str) -> bool:
    with AbsClient(url, token, timeout=30.0) as client:
        return library_id in {lib.id for lib in client.libraries()} and len(client.items(library_id).items) == 3


def test_an_api_key_and_the_login_token_both_work_and_are_told_apart(abs_library: AbsLibraryEnv) -> None:
    server, now = abs_library.server, datetime.now(UTC)
    for token in (server.api_key, server.login_token, server.legacy_token):
        assert sees(server.url, token, abs_library.library_id)
    key, login, legacy = token_info(server.api_key), token_info(server.login_token), token_info(server.legacy_token)
    assert (key.kind, key.name, key.expires_at) == ("api_key", "mamcrawler tests", None)
    assert login.kind == "login" and login.expires_at is not None
    assert timedelta(minutes=50) < login.expires_at - now <= timedelta(hours=1, minutes=1)  # ABS's default hour
    assert legacy.kind == "legacy"
    assert token_advice(key, now) is None
    for advice in (token_advice(login, now), token_advice(legacy, now)):
        assert advice is not None and "create an API key in Audiobookshelf" in advice and "ABS_TOKEN" in advice
    assert token_info("not-a-jwt").kind == "opaque"


def test_a_revoked_or_expired_api_key_is_refused_with_what_to_fix(abs_library: AbsLibraryEnv) -> None:
    server = abs_library.server
    key_id, key = server.new_api_key("revoked soon")
    with AbsClient(server.url, key, timeout=30.0) as client:
        assert client.libraries()
        server.call("DELETE", f"/api/api-keys/{key_id}")
        with pytest.raises(ServiceAuthError) as caught:
            client.items(abs_library.library_id)
    assert caught.value.code == "unauthorized" and "fix ABS_TOKEN" in str(caught.value)
    assert "revoked" in str(caught.value)
    _, short = server.new_api_key("short-lived", expires_in=1)
    time.sleep(1.5)
    with AbsClient(server.url, short, timeout=30.0) as client, pytest.raises(ServiceAuthError) as caught:
        client.libraries()
    assert caught.value.code == "token_expired" and "fix ABS_TOKEN" in str(caught.value)
    assert "API key" in str(caught.value)


def test_an_expired_login_token_is_refused_with_what_to_fix(tmp_path: Path) -> None:
    with audiobookshelf(tmp_path / "abs", env={"ACCESS_TOKEN_EXPIRY": "2"}) as server:
        with AbsClient(server.url, server.login_token, timeout=30.0) as client:
            assert client.libraries() == ()
            time.sleep(3)
            with pytest.raises(ServiceAuthError) as caught:
                client.libraries()
        assert sees_nothing_wrong_with(server.api_key, server.url)
    assert caught.value.code == "token_expired"
    assert "login token in ABS_TOKEN expired" in str(caught.value) and "create an API key" in str(caught.value)


def sees_nothing_wrong_with(token: str, url: str) -> bool:
    with AbsClient(url, token, timeout=30.0) as client:
        return client.libraries() == ()


def test_a_user_who_may_not_scan_is_told_so(abs_library: AbsLibraryEnv) -> None:
    server = abs_library.server
    _, key = server.new_api_key("reader", user_id=server.new_user("reader"))
    with AbsClient(server.url, key, timeout=30.0) as client:
        assert len(client.items(abs_library.library_id).items) == 3  # reading is allowed
        with pytest.raises(ServiceAuthError) as caught:
            client.scan_item(abs_library.item_id("mp3"))
    assert caught.value.code == "forbidden" and "admin" in str(caught.value) and "ABS_TOKEN" in str(caught.value)


def test_the_library_sensor_makes_refusals_gaps_with_the_fix_never_an_empty_library(
    abs_library: AbsLibraryEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, now = abs_library.server, datetime.now(UTC)
    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    with AbsClient(server.url, server.api_key, timeout=30.0) as client:
        reading = LibrarySensor(client, state, now).sense(now)
    assert reading.gap is None and abs_library.books["mp3"].title in {i.title for i in reading.facts["library"]}

    key_id, key = server.new_api_key("revoked")
    server.call("DELETE", f"/api/api-keys/{key_id}")
    podcasts = server.call(
        "POST",
        "/api/libraries",
        json={"name": "Pods", "folders": [{"fullPath": str(tmp_path / "p")}], "mediaType": "podcast"},
    )
    only_pods = server.new_user("podcaster", libraries=[podcasts["id"]])
    _, pod_key = server.new_api_key("podcasts only", user_id=only_pods)
    caplog.set_level(logging.WARNING, "mamcrawler")
    gaps = {}
    for name, token in (("revoked", key), ("podcasts", pod_key), ("login", server.login_token)):
        with AbsClient(server.url, token, timeout=30.0) as client:
            reading = LibrarySensor(client, state, now).sense(now)
        gaps[name] = reading.gap
    server.call("DELETE", f"/api/libraries/{podcasts['id']}")
    assert gaps["login"] is None  # works, with a warning about its expiry
    revoked, pods = gaps["revoked"], gaps["podcasts"]
    assert revoked is not None and revoked.source == Source.LIBRARY and revoked.code == "unauthorized"
    assert pods is not None and pods.code == "no_book_library" and "Pods (podcast)" in pods.message
    text = caplog.text
    assert "login token that expires" in text
    assert text.count("fix ABS_TOKEN") >= 2  # the refusal and the podcast-only token both say what to fix
    assert server.api_key not in text and key not in text and server.login_token not in text
