"""age with X25519 keys (`model.age`), checked against rage (`pyrage`), an independent
implementation of the same format."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gitops_sim.model import age

DATA_KEY = bytes(range(32))


@pytest.fixture
def pyrage() -> Any:
    """rage's Python bindings (the test extra)."""
    return pytest.importorskip("pyrage")


def test_a_key_pair_reads_and_prints_as_rage_writes_it(pyrage: Any) -> None:
    theirs = pyrage.x25519.Identity.generate()
    ours = age.parse_identity(str(theirs))
    assert (str(ours), str(ours.recipient)) == (str(theirs), str(theirs.to_public()))
    assert str(age.parse_recipient(str(theirs.to_public()))) == str(theirs.to_public())


def test_what_it_encrypts_rage_decrypts(pyrage: Any) -> None:
    theirs = pyrage.x25519.Identity.generate()
    armored = age.encrypt(DATA_KEY, [age.parse_recipient(str(theirs.to_public()))], random.Random(1))
    assert armored.startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert pyrage.decrypt(armored.encode(), [theirs]) == DATA_KEY


def test_what_rage_encrypts_it_decrypts(pyrage: Any) -> None:
    theirs = pyrage.x25519.Identity.generate()
    armored = pyrage.encrypt(DATA_KEY, [theirs.to_public()], armored=True)
    assert age.decrypt(armored.decode(), [age.parse_identity(str(theirs))]) == DATA_KEY


def test_a_payload_over_one_chunk_round_trips() -> None:
    key = age.generate(random.Random("k"))
    payload = bytes(200_000)
    assert age.decrypt(age.encrypt(payload, [key.recipient], random.Random(2)), [key]) == payload


def test_the_same_seed_encrypts_the_same_bytes() -> None:
    key = age.generate(random.Random("k"))
    first = age.encrypt(DATA_KEY, [key.recipient], random.Random(7))
    assert age.encrypt(DATA_KEY, [key.recipient], random.Random(7)) == first
    assert age.encrypt(DATA_KEY, [key.recipient], random.Random(8)) != first


@pytest.mark.parametrize(
    ("count", "message"),
    [
        pytest.param(
            1,
            "identity did not match any of the recipients: incorrect identity for recipient block",
            id="one-identity",
        ),
        pytest.param(2, "no identity matched any of the recipients", id="two-identities"),
    ],
)
def test_identities_that_are_not_a_recipient_fail_in_age_words(count: int, message: str) -> None:
    armored = age.encrypt(DATA_KEY, [age.generate(random.Random("a")).recipient], random.Random(1))
    others = [age.generate(random.Random(f"other {i}")) for i in range(count)]
    with pytest.raises(age.AgeError, match=f"^{message}$"):
        age.decrypt(armored, others)


def test_a_tampered_header_fails_its_mac() -> None:
    key = age.generate(random.Random("k"))
    armored = age.encrypt(
        DATA_KEY, [key.recipient, age.generate(random.Random("b")).recipient], random.Random(1)
    )
    raw = age._dearmor(armored)
    stanzas, mac, payload = age._parse(raw)
    swapped = (
        age._header_without_mac(list(reversed(stanzas))) + b" " + age._b64(mac).encode() + b"\n" + payload
    )
    with pytest.raises(age.AgeError, match="^bad header MAC$"):
        age.decrypt(_armor(swapped), [key])


def _armor(raw: bytes) -> str:
    import base64

    text = base64.b64encode(raw).decode()
    body = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"{age.ARMOR_HEADER}\n{body}\n{age.ARMOR_FOOTER}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "AGE-SECRET-KEY-1QQQQ",
            "malformed secret key: separator '1' at invalid position: pos=15, len=20",
            id="too-short",
        ),
        pytest.param("not a key", "unknown identity type", id="unknown"),
        pytest.param(
            "AGE-PLUGIN-YUBIKEY-1XYZ", "age plugin identities are not simulated by gitops-sim", id="plugin"
        ),
    ],
)
def test_a_bad_identity_line_says_why(text: str, message: str) -> None:
    with pytest.raises(age.AgeError, match=f"^{message}$"):
        age.parse_identities(f"# created: today\n\n{text}\n")


def test_a_secret_key_with_a_wrong_checksum_does_not_show_the_key() -> None:
    text = str(age.generate(random.Random("k")))
    broken = text[:-1] + ("Q" if text[-1] != "Q" else "P")
    with pytest.raises(age.AgeError) as caught:
        age.parse_identity(broken)
    assert str(caught.value) == "malformed secret key: invalid checksum"
    assert repr(age.parse_identity(text)) == "Identity(<secret>)"
