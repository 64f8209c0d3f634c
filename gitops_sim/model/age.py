"""age (age-encryption.org/v1) with X25519 keys: what SOPS wraps its data key with.

What it does: parses age identities (`AGE-SECRET-KEY-1…`) and recipients (`age1…`) from their
Bech32 text, encrypts a small payload to recipients (`encrypt`, armored as SOPS stores it) and
decrypts one with identities (`decrypt`), raising `AgeError` with the words filippo.io/age uses
(`identity did not match any of the recipients: incorrect identity for recipient block`, ...).

IMPLEMENTATION DETAIL:
    Problem: a scenario commits files encrypted for an age recipient, and a run must be
    byte-identical from the same seed (commit SHAs included); age draws its file key, nonce and
    ephemeral key from the operating system, and the Python bindings of rage (`pyrage`) take no
    source of randomness.
    Solution: the format is small and fully specified (age-encryption.org/v1: an X25519 stanza
    wrapping a 16-byte file key with HKDF-SHA-256 and ChaCha20-Poly1305, an HMAC over the
    header, the STREAM payload in 64 KiB chunks); it is written here over `cryptography`, and
    every random byte comes from the caller's seeded `random.Random`. The tests check it against
    rage (`pyrage`) both ways and against files the real `sops` made.

Fidelity and known gaps: X25519 identities and recipients only. Post-quantum hybrid keys
(`age1pq1…`, `AGE-SECRET-KEY-PQ-1…`), SSH keys, plugins and passphrases are refused with a
message saying they are not simulated. Parse errors of the armor and the header are reported in
our words (prefixed `failed to read header: ` as age does), not always age's.

Randomness drawn from a seeded generator protects nothing: what `encrypt` makes is for
simulations and tests, never for real secrets.

Provenance: behaviour of filippo.io/age v1.3.1 (age.go, x25519.go, internal/bech32,
internal/format, internal/stream, armor); our own code. Callers: `model.sops`. Pure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INTRO = b"age-encryption.org/v1\n"
X25519_LABEL = b"age-encryption.org/v1/X25519"
ARMOR_HEADER = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_FOOTER = "-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
FILE_KEY_SIZE = 16
NONCE_SIZE = 16
CHUNK_SIZE = 64 * 1024
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
SECRET_HRP = "AGE-SECRET-KEY-"
PUBLIC_HRP = "age"


class AgeError(Exception):
    """What filippo.io/age would return, in its words."""


class Unsupported(AgeError):
    """A kind of age key gitops-sim does not simulate."""


# Bech32 (BIP 173), as age's internal/bech32 reads and writes it (no length limit).


def _polymod(values: Sequence[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, g in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= g
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    hrp = hrp.lower()
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: Sequence[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits | value) & 0xFFFFFFFF
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits:
        raise AgeError("illegal zero padding")
    elif (acc << (tobits - bits)) & maxv:
        raise AgeError("non-zero padding")
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """`data` under `hrp`; upper case when `hrp` is."""
    values = _convert_bits(data, 8, 5, True)
    lower = hrp.lower()
    check = _polymod([*_hrp_expand(lower), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    text = lower + "1" + "".join(_CHARSET[v] for v in [*values, *checksum])
    return text if hrp == lower else text.upper()


def bech32_decode(text: str) -> tuple[str, bytes]:
    """The HRP (in the text's case) and the data of a Bech32 string; `AgeError` as age words it."""
    if text.lower() != text and text.upper() != text:
        raise AgeError("mixed case")
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise AgeError(f"separator '1' at invalid position: pos={pos}, len={len(text)}")
    hrp = text[:pos]
    for i, c in enumerate(hrp):
        if not 33 <= ord(c) <= 126:
            raise AgeError(f"invalid character human-readable part: s[{i}]={ord(c)}")
    data: list[int] = []
    for i, c in enumerate(text.lower()[pos + 1 :]):
        d = _CHARSET.find(c)
        if d == -1:
            raise AgeError(f"invalid character data part: s[{i}]={ord(c)}")
        data.append(d)
    if _polymod([*_hrp_expand(hrp), *data]) != 1:
        raise AgeError("invalid checksum")
    return hrp, bytes(_convert_bits(data[:-6], 5, 8, False))


# Keys.


@dataclass(frozen=True, slots=True)
class Recipient:
    """An X25519 public key (`age1…`)."""

    public: bytes

    def __str__(self) -> str:
        return bech32_encode(PUBLIC_HRP, self.public)


@dataclass(frozen=True, slots=True)
class Identity:
    """An X25519 private key (`AGE-SECRET-KEY-1…`). Its text never appears in a message."""

    secret: bytes

    def __repr__(self) -> str:
        return "Identity(<secret>)"

    @property
    def recipient(self) -> Recipient:
        key = x25519.X25519PrivateKey.from_private_bytes(self.secret)
        return Recipient(key.public_key().public_bytes_raw())

    def __str__(self) -> str:
        return bech32_encode(SECRET_HRP, self.secret)


def parse_recipient(text: str) -> Recipient:
    """A recipient as SOPS reads one (`age.MasterKeyFromRecipient`): X25519 only here."""
    text = text.strip()
    if text.startswith("age1pq1"):
        raise Unsupported("post-quantum age recipients (age1pq1…) are not simulated by gitops-sim")
    if text.startswith("age1") and text.count("1") > 1:  # `1` is not in Bech32's alphabet
        raise Unsupported("age plugin recipients are not simulated by gitops-sim")
    if text.startswith("ssh-"):
        raise Unsupported("age SSH recipients are not simulated by gitops-sim")
    if not text.startswith("age1"):
        raise AgeError(f"failed to parse input, unknown recipient type: {text!r}")
    try:
        hrp, key = bech32_decode(text)
    except AgeError as exc:
        raise AgeError(
            f"failed to parse input as Bech32-encoded age public key: malformed recipient {text!r}: {exc}"
        ) from exc
    if hrp != PUBLIC_HRP or len(key) != 32:
        raise AgeError(
            f"failed to parse input as Bech32-encoded age public key: malformed recipient {text!r}: "
            + (f"invalid type {hrp!r}" if hrp != PUBLIC_HRP else "invalid X25519 public key")
        )
    return Recipient(key)


def parse_identity(line: str) -> Identity:
    """One identity line as SOPS parses it (`parseIdentity`): X25519 only here."""
    if line.startswith("AGE-PLUGIN-"):
        raise Unsupported("age plugin identities are not simulated by gitops-sim")
    if line.startswith("AGE-SECRET-KEY-PQ-1"):
        raise Unsupported("post-quantum age identities are not simulated by gitops-sim")
    if not line.startswith("AGE-SECRET-KEY-1"):
        raise AgeError("unknown identity type")
    try:
        hrp, key = bech32_decode(line)
    except AgeError as exc:
        raise AgeError(f"malformed secret key: {exc}") from exc
    if hrp != SECRET_HRP:
        raise AgeError(f"malformed secret key: unknown type {hrp!r}")
    if len(key) != 32:
        raise AgeError("malformed secret key: invalid X25519 secret key")
    return Identity(key)


def parse_identities(text: str) -> list[Identity]:
    """Every identity of a key file (SOPS `ParsedIdentities.Import`): one a line, blank lines and
    `#` comments skipped."""
    out = []
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if line and not line.startswith("#"):
            out.append(parse_identity(line))
    return out


def generate(rng: random.Random) -> Identity:
    """A new identity from `rng` (for tests and scenarios)."""
    return Identity(rng.randbytes(32))


# The format.


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if "=" in text or "\n" in text or "\r" in text:
        raise AgeError("illegal base64 data")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError as exc:
        raise AgeError("illegal base64 data") from exc
    if _b64(data) != text:  # a non-canonical encoding (stray bits), refused by Strict()
        raise AgeError("illegal base64 data")
    return data


@dataclass(frozen=True, slots=True)
class _Stanza:
    type: str
    args: tuple[str, ...]
    body: bytes

    def marshal(self) -> bytes:
        lines = [f"-> {' '.join((self.type, *self.args))}"]
        text = _b64(self.body)
        lines.extend(text[i : i + COLUMNS] for i in range(0, len(text), COLUMNS))
        if len(text) % COLUMNS == 0:
            lines.append("")  # the body ends with a short (here empty) line
        return ("\n".join(lines) + "\n").encode()


def _header_without_mac(stanzas: Sequence[_Stanza]) -> bytes:
    return INTRO + b"".join(s.marshal() for s in stanzas) + b"---"


def _wrap(file_key: bytes, recipient: Recipient, rng: random.Random) -> _Stanza:
    ephemeral = x25519.X25519PrivateKey.from_private_bytes(rng.randbytes(32))
    ours = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(recipient.public))
    key = _hkdf(shared, ours + recipient.public, X25519_LABEL)
    body = ChaCha20Poly1305(key).encrypt(bytes(12), file_key, None)
    return _Stanza("X25519", (_b64(ours),), body)


def encrypt(plaintext: bytes, recipients: Sequence[Recipient], rng: random.Random) -> str:
    """`plaintext` encrypted to every recipient, armored (SOPS's `enc`), every random byte from
    `rng`."""
    if not recipients:
        raise AgeError("no recipients specified")
    file_key = rng.randbytes(FILE_KEY_SIZE)
    stanzas = [_wrap(file_key, r, rng) for r in recipients]
    header = _header_without_mac(stanzas)
    mac = hmac.new(_hkdf(file_key, None, b"header"), header, hashlib.sha256).digest()
    nonce = rng.randbytes(NONCE_SIZE)
    payload = _seal_stream(_hkdf(file_key, nonce, b"payload"), plaintext)
    raw = header + b" " + _b64(mac).encode() + b"\n" + nonce + payload
    text = base64.b64encode(raw).decode()
    body = "\n".join(text[i : i + COLUMNS] for i in range(0, len(text), COLUMNS))
    return f"{ARMOR_HEADER}\n{body}\n{ARMOR_FOOTER}\n"


def _chunk_nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _seal_stream(key: bytes, plaintext: bytes) -> bytes:
    aead = ChaCha20Poly1305(key)
    chunks = [plaintext[i : i + CHUNK_SIZE] for i in range(0, len(plaintext), CHUNK_SIZE)] or [b""]
    return b"".join(
        aead.encrypt(_chunk_nonce(i, i == len(chunks) - 1), chunk, None) for i, chunk in enumerate(chunks)
    )


def _open_stream(key: bytes, payload: bytes) -> bytes:
    aead = ChaCha20Poly1305(key)
    size = CHUNK_SIZE + 16
    chunks = [payload[i : i + size] for i in range(0, len(payload), size)]
    if not chunks:
        raise AgeError("unexpected EOF")
    out = []
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        try:
            out.append(aead.decrypt(_chunk_nonce(i, last), chunk, None))
        except InvalidTag as exc:
            raise AgeError(
                "failed to decrypt and authenticate payload chunk, file may be corrupted or tampered with"
            ) from exc
    return b"".join(out)


def _dearmor(text: str) -> bytes:
    lines = text.strip().split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    if not lines or lines[0] != ARMOR_HEADER:
        raise AgeError(f"failed to read header: invalid first line: {lines[0][:40]!r}" if lines else "")
    if lines[-1] != ARMOR_FOOTER:
        raise AgeError("failed to read header: invalid closing line")
    body = lines[1:-1]
    if any(len(line) > COLUMNS for line in body) or any(not line for line in body):
        raise AgeError("failed to read header: malformed armor")
    try:
        return base64.b64decode("".join(body), validate=True)
    except ValueError as exc:
        raise AgeError("failed to read header: illegal base64 data in armor") from exc


def _parse(raw: bytes) -> tuple[list[_Stanza], bytes, bytes]:
    """The stanzas, the MAC and the payload of an age file (`format.Parse`)."""
    if not raw.startswith(INTRO):
        raise AgeError("failed to read header: unexpected intro")
    rest = raw[len(INTRO) :]
    stanzas: list[_Stanza] = []
    while True:
        line, sep, after = rest.partition(b"\n")
        if not sep:
            raise AgeError("failed to read header: unexpected EOF")
        if line.startswith(b"---"):
            parts = line.decode(errors="replace").split(" ")
            if parts[0] != "---" or len(parts) != 2:
                raise AgeError(f"failed to read header: malformed closing line: {line[:40]!r}")
            try:
                mac = _unb64(parts[1])
            except AgeError as exc:
                raise AgeError(f"failed to read header: malformed closing line: {exc}") from exc
            return stanzas, mac, after
        if not line.startswith(b"-> "):
            raise AgeError(f"failed to read header: malformed stanza opening line: {line[:40]!r}")
        words = line[3:].decode(errors="replace").split(" ")
        body_lines: list[str] = []
        rest = after
        while True:
            line, sep, rest = rest.partition(b"\n")
            if not sep:
                raise AgeError("failed to read header: unexpected EOF")
            text = line.decode(errors="replace")
            if len(text) > COLUMNS:
                raise AgeError("failed to read header: malformed body line")
            body_lines.append(text)
            if len(text) < COLUMNS:
                break
        try:
            body = _unb64("".join(body_lines))
        except AgeError as exc:
            raise AgeError(f"failed to read header: malformed body line: {exc}") from exc
        stanzas.append(_Stanza(words[0], tuple(words[1:]), body))


def _unwrap(identity: Identity, stanza: _Stanza) -> bytes | None:
    """The file key, or None when this identity is not the stanza's (`ErrIncorrectIdentity`)."""
    if stanza.type != "X25519":
        return None
    if len(stanza.args) != 1:
        raise AgeError("invalid X25519 recipient block")
    try:
        theirs = _unb64(stanza.args[0])
    except AgeError as exc:
        raise AgeError(f"failed to parse X25519 recipient: {exc}") from exc
    if len(theirs) != 32:
        raise AgeError("invalid X25519 recipient block")
    ours = identity.recipient.public
    try:
        shared = x25519.X25519PrivateKey.from_private_bytes(identity.secret).exchange(
            x25519.X25519PublicKey.from_public_bytes(theirs)
        )
    except ValueError as exc:
        raise AgeError("invalid X25519 recipient: bad input point: low order point") from exc
    key = _hkdf(shared, theirs + ours, X25519_LABEL)
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise AgeError("invalid X25519 recipient block: incorrect file key size")
    try:
        return ChaCha20Poly1305(key).decrypt(bytes(12), stanza.body, None)
    except InvalidTag:
        return None


def decrypt(armored: str, identities: Sequence[Identity]) -> bytes:
    """The plaintext of an armored age file (`age.Decrypt`), with age's errors."""
    raw = _dearmor(armored)
    stanzas, mac, payload = _parse(raw)
    if not identities:
        raise AgeError("no identities specified")
    file_key = None
    misses = 0
    for identity in identities:
        for stanza in stanzas:
            file_key = _unwrap(identity, stanza)
            if file_key is not None:
                break
        if file_key is not None:
            break
        misses += 1
    if file_key is None:
        if misses == 1:
            raise AgeError(
                "identity did not match any of the recipients: incorrect identity for recipient block"
            )
        raise AgeError("no identity matched any of the recipients")
    expected = hmac.new(
        _hkdf(file_key, None, b"header"), _header_without_mac(stanzas), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, mac):
        raise AgeError("bad header MAC")
    if len(payload) < NONCE_SIZE:
        raise AgeError("failed to read nonce: unexpected EOF")
    nonce, body = payload[:NONCE_SIZE], payload[NONCE_SIZE:]
    return _open_stream(_hkdf(file_key, nonce, b"payload"), body)
