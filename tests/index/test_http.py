"""The HTTP session: retries with backoff, errors naming the URL, basic auth, credentials never shown."""

from __future__ import annotations

import pytest

from envlock.errors import NetworkError
from envlock.index.http import HttpClient, HttpSettings, redact, strip_credentials
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex

FAST = HttpSettings(retries=2, backoff=0.01, read_timeout=5)
SPEC = DistSpec("demo", "1.0")
WHEEL = "demo-1.0-py3-none-any.whl"


@pytest.fixture
def index(kit_index: KitIndex) -> KitIndex:
    kit_index.publish(SPEC)
    return kit_index


def test_get_returns_the_body(index: KitIndex) -> None:
    response = HttpClient(FAST).get(index.file_url(WHEEL))
    assert response.status == 200
    assert len(response.body) > 0


@pytest.mark.parametrize("kind", ["500", "503", "reset"])
def test_transient_failures_are_retried(index: KitIndex, kind: str) -> None:
    index.fault(f"/files/{WHEEL}", kind, times=2)
    assert HttpClient(FAST).get(index.file_url(WHEEL)).status == 200
    assert index.requested_paths().count(f"/files/{WHEEL}") == 3


def test_persistent_failure_names_the_url_and_attempts(index: KitIndex) -> None:
    index.fault(f"/files/{WHEEL}", "503")
    with pytest.raises(
        NetworkError, match=rf"cannot fetch {index.file_url(WHEEL)}: HTTP 503 \(after 3 attempts\)"
    ):
        HttpClient(FAST).get(index.file_url(WHEEL))


def test_not_found_is_not_retried(index: KitIndex) -> None:
    with pytest.raises(NetworkError, match="HTTP 404"):
        HttpClient(FAST).get(index.file_url("missing-1.0.tar.gz"))
    assert index.requested_paths().count("/files/missing-1.0.tar.gz") == 1


def test_basic_auth_from_the_url_and_never_in_errors(index: KitIndex) -> None:
    index.auth = ("alice", "s3cret")
    client = HttpClient(FAST)
    with pytest.raises(NetworkError, match="HTTP 401") as refused:
        client.get(index.file_url(WHEEL))
    assert "credentials looked up in: the URL" in str(refused.value) and "\n" not in str(refused.value)
    secret_url = index.url_with_auth()
    clean = client.add_credentials_from(secret_url)
    assert "s3cret" not in clean
    assert client.get(index.file_url(WHEEL)).status == 200, "credentials apply to the whole host"
    index.fault("/simple/nothing/", "500")
    with pytest.raises(NetworkError) as failed:
        client.get(secret_url + "nothing/")
    assert "s3cret" not in str(failed.value) and "alice" not in str(failed.value)


def test_connection_refused_names_the_url() -> None:
    with pytest.raises(
        NetworkError,
        match=r"cannot fetch http://127\.0\.0\.1:9/simple/: connection refused \(after 3 attempts\)",
    ):
        HttpClient(FAST).get("http://127.0.0.1:9/simple/")


@pytest.mark.parametrize(
    ("url", "redacted", "stripped"),
    [
        (
            "https://u:p@h.example:8443/s?q#f",
            "https://***@h.example:8443/s?q#f",
            "https://h.example:8443/s?q#f",
        ),
        ("https://token@h.example/s", "https://***@h.example/s", "https://h.example/s"),
        ("https://h.example/s", "https://h.example/s", "https://h.example/s"),
    ],
)
def test_redact_and_strip(url: str, redacted: str, stripped: str) -> None:
    assert redact(url) == redacted
    assert strip_credentials(url) == stripped
