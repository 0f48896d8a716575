"""asv benchmarks for swfast.security, each beside its peer in the same run.

Run both implementations through asv.conf.json's ``SWFAST_NO_EXTENSIONS`` matrix. Peers live in
``_security_peers.py`` (PyJWT, raw AESGCM and Ed25519, pycasbin, argon2-cffi).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _security_peers as peers  # noqa: E402


class TimeTokens:
    """generate_token + validate_token round trip vs PyJWT encode + decode."""

    params = (["HS256", "EdDSA"], ["swfast", "pyjwt"])
    param_names = ["alg", "impl"]

    def setup(self, alg: str, impl: str) -> None:
        mgr, key = peers.token_manager(alg)
        if impl == "swfast":
            gen, val = mgr.generate_token, mgr.validate_token
            self.fn = lambda: val(gen("u1"))
        else:
            self.fn = peers.PyJWTAdapter(alg, key).roundtrip

    def time_roundtrip(self, alg: str, impl: str) -> None:
        self.fn()


class TimeTokenFloors:
    """What a token round trip cannot beat: hand-written HS256 without checks, raw Ed25519."""

    def setup(self) -> None:
        self.ed = peers.raw_ed25519()

    def time_handwritten_hs256(self) -> None:
        peers.handwritten_hs256_roundtrip()

    def time_raw_ed25519_sign_verify(self) -> None:
        self.ed()


class TimeValidateOnly:
    """validate_token alone (the per-request cost of a service)."""

    def setup(self) -> None:
        self.mgr, _ = peers.token_manager("HS256")
        self.token = self.mgr.generate_token("u1")

    def time_validate_hs256(self) -> None:
        self.mgr.validate_token(self.token)


class TimeEncryption:
    """encrypt_data + decrypt_data vs raw AESGCM, by message size."""

    params = ([64, 1024, 65536], ["swfast", "raw-aesgcm"])
    param_names = ["size", "impl"]

    def setup(self, size: int, impl: str) -> None:
        from swfast.security import DataEncryptor

        if impl == "swfast":
            enc = DataEncryptor()
            data = os.urandom(size)
            e, d = enc.encrypt_data, enc.decrypt_data
            self.fn = lambda: d(e(data, b"ctx"), b"ctx")
        else:
            self.fn = peers.raw_aesgcm(size)

    def time_roundtrip(self, size: int, impl: str) -> None:
        self.fn()


class TimeCheckPermission:
    """check_permission with 1000 roles, 10 levels, 10000 permissions vs pycasbin's enforce."""

    params = ["swfast", "pycasbin"]
    param_names = ["impl"]
    timeout = 240

    def setup(self, impl: str) -> None:
        if impl == "swfast":
            rbac, target = peers.swfast_rbac()
            check = rbac.check_permission
            self.fn = lambda: check("alice", target)
        else:
            enforcer, target = peers.casbin_enforcer()
            self.fn = lambda: enforcer.enforce("alice", target)

    def time_check(self, impl: str) -> None:
        self.fn()


class TimeRBACRebuild:
    """The first check after a policy change recomputes the user's closure."""

    def setup(self) -> None:
        self.rbac, self.target = peers.swfast_rbac()

    def time_grant_then_check(self) -> None:
        self.rbac.grant_permission("role9_0", "perm:extra")
        self.rbac.check_permission("alice", self.target)


class TimePasswords:
    """Argon2id at the OWASP minimum (m=19 MiB, t=2, p=1) vs argon2-cffi with the same cost."""

    params = ["swfast", "argon2-cffi"]
    param_names = ["impl"]
    number = 1
    repeat = 5

    def setup(self, impl: str) -> None:
        from swfast.security import PasswordHasher

        self.hasher = PasswordHasher() if impl == "swfast" else peers.owasp_argon2_cffi()

    def time_hash(self, impl: str) -> None:
        self.hasher.hash("correct horse battery staple")


def timeraw_import_swfast_security() -> str:
    return "import swfast.security"


class TimePeersExtra:
    """joserfc HS256 round trip, TOTP generation vs pyotp, key rotation vs MultiFernet.rotate."""

    params = ["swfast", "peer"]
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        import time

        from swfast.security import DataEncryptor, KeyRing, totp

        if impl == "swfast":
            mgr, _ = peers.token_manager("HS256")
            gen, val = mgr.generate_token, mgr.validate_token
            self.token = lambda: val(gen("u1"))
            secret = peers.SECRET[:20]
            self.otp = lambda: totp(secret, time.time())
            ring = KeyRing()
            ring.generate_keys()
            enc = DataEncryptor(ring)
            old = enc.encrypt_data(os.urandom(1024))
            ring.rotate_keys()
            self.rotate = lambda: enc.reencrypt(old)
        else:
            self.token = peers.JoserfcAdapter().roundtrip
            self.otp = peers.pyotp_now()
            self.rotate = peers.multifernet_rotate()

    def time_token_hs256(self, impl: str) -> None:
        self.token()

    def time_totp(self, impl: str) -> None:
        self.otp()

    def time_rotate_1k(self, impl: str) -> None:
        self.rotate()
