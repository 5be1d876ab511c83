"""index.credentials through the real HTTP client and the kit's index with basic auth: the lookup order
(URL, named index variables, netrc, keyring), logins kept to their origin, the 401 line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from envlock.errors import InputError, NetworkError
from envlock.index.credentials import CredentialLookup, CredentialSources, NamedIndex
from envlock.index.http import HttpClient, HttpSettings
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import KitIndexFactory

WHEEL = "alpha-1.0-py3-none-any.whl"


@pytest.fixture
def index(kit_index: KitIndex) -> KitIndex:
    kit_index.publish(DistSpec("alpha", "1.0"))
    kit_index.auth = ("alice", "s3cret")
    return kit_index


def client(
    environ: dict[str, str], *named: NamedIndex, keyring: Sequence[str] | None = None
) -> tuple[HttpClient, list[list[str]]]:
    calls: list[list[str]] = []

    def call_keyring(args: Sequence[str]) -> str | None:
        calls.append(list(args))
        return keyring[0] if keyring else None

    sources = CredentialSources(
        named, keyring=keyring is not None, environ=environ, call_keyring=call_keyring
    )
    return HttpClient(HttpSettings(retries=0, lookup=CredentialLookup(sources))), calls


def sent_authorization(index: KitIndex) -> list[str | None]:
    return [{k.lower(): v for k, v in r.headers.items()}.get("authorization") for r in index.requests]


def test_named_index_variables_go_to_their_origin_only(
    index: KitIndex, kit_index_factory: KitIndexFactory
) -> None:
    other = kit_index_factory()
    other.publish(DistSpec("alpha", "1.0"))
    env = {"ENVLOCK_INDEX_CORP_USERNAME": "alice", "ENVLOCK_INDEX_CORP_PASSWORD": "s3cret"}
    http, _ = client(env, NamedIndex("corp", index.url))
    assert http.get(index.file_url(WHEEL)).status == 200  # a file URL on the index's origin
    assert http.get(other.file_url(WHEEL)).status == 200
    assert sent_authorization(other) == [None]


def test_netrc_then_its_default_entry(index: KitIndex, tmp_path: Path) -> None:
    netrc = tmp_path / "my-netrc"
    netrc.write_text("machine elsewhere.example login x password y\ndefault login alice password s3cret\n")
    http, _ = client({"NETRC": str(netrc)})
    assert http.get(index.file_url(WHEEL)).status == 200
    netrc.write_text("machine 127.0.0.1 login alice password wrong\n")
    http, _ = client({"NETRC": str(netrc)})
    with pytest.raises(NetworkError, match="HTTP 401") as refused:
        http.get(index.file_url(WHEEL))
    assert "wrong" not in str(refused.value) and str(netrc) in str(refused.value)


def test_a_broken_netrc_is_named(index: KitIndex, tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 frobnicate x\n")
    http, _ = client({"NETRC": str(netrc)})
    with pytest.raises(InputError, match=f"{netrc}: line"):
        http.get(index.file_url(WHEEL))


def test_url_login_comes_first_and_a_bare_username_picks_the_keyring_entry(index: KitIndex) -> None:
    env = {"ENVLOCK_INDEX_CORP_PASSWORD": "wrong"}
    http, calls = client(env, NamedIndex("corp", index.url), keyring=["s3cret"])
    url = index.file_url(WHEEL).replace("http://", "http://alice:s3cret@")
    assert http.get(url).status == 200
    assert calls == []
    http, calls = client({}, NamedIndex("corp", index.url), keyring=["s3cret"])
    bare = index.file_url(WHEEL).replace("http://", "http://alice@")
    assert http.get(bare).status == 200
    assert calls == [["get", index.url, "alice"]]


def test_keyring_needs_a_username_and_is_asked_once_per_origin(index: KitIndex) -> None:
    http, calls = client({}, NamedIndex("corp", index.url), keyring=["s3cret"])
    with pytest.raises(NetworkError, match="keyring \\(not asked: it needs ENVLOCK_INDEX_CORP_USERNAME"):
        http.get(index.file_url(WHEEL))
    assert calls == []
    env = {"ENVLOCK_INDEX_CORP_USERNAME": "alice"}
    http, calls = client(env, NamedIndex("corp", index.url), keyring=["s3cret"])
    for _ in range(3):
        assert http.get(index.file_url(WHEEL)).status == 200
    assert calls == [["get", index.url, "alice"]]


def test_env_prefix_spelling() -> None:
    assert NamedIndex("corp-internal.v2", "https://x/").env_prefix == "ENVLOCK_INDEX_CORP_INTERNAL_V2"
