"""RBAC: RELIABILITY.md §4 RB-1..RB-6, against both permission-index kernels."""
from __future__ import annotations

import logging
import random
import threading
from collections import deque

import pytest

from swfast.errors import ConfigurationError, PermissionDenied, RoleCycleError
from swfast.security import RBAC


@pytest.fixture
def rbac(impl) -> RBAC:  # type: ignore[no-untyped-def]
    return RBAC(index=impl.load("rbac").PermissionIndex())


def test_compiled_kernel_is_default() -> None:
    from swfast._native import rbac as selector
    from swfast._native._compat import NO_EXTENSIONS

    assert selector.PermissionIndex.__module__.endswith("_rbac_py" if NO_EXTENSIONS else "_rbac_c")


def test_kernel_index_contract(impl) -> None:  # type: ignore[no-untyped-def]
    idx = impl.load("rbac").PermissionIndex()
    assert idx.check("u", "p") is None and len(idx) == 0
    idx.set("u", {"a:read"}, ("ops:", "x"))
    assert idx.check("u", "a:read") is True and idx.check("u", "a:readwrite") is False
    assert idx.check("u", "ops:restart") is True and idx.check("u", "x") is True and idx.check("u", "op") is False
    assert idx.check("u", 5) is False
    idx.discard("u")
    assert idx.check("u", "a:read") is None
    idx.set(("tuple", 1), frozenset(), ())
    assert idx.check(("tuple", 1), "a") is False
    idx.clear()
    assert len(idx) == 0


def test_rb1_transitive_inheritance(rbac: RBAC) -> None:
    rbac.grant_permission("viewer", "data:read")
    rbac.grant_permission("editor", "data:write")
    rbac.add_inheritance("editor", "viewer")
    rbac.add_inheritance("admin", "editor")
    rbac.assign_role("alice", "admin")
    rbac.assign_role("vic", "viewer")
    assert rbac.check_permission("alice", "data:read") and rbac.check_permission("alice", "data:write")
    assert rbac.check_permission("vic", "data:read") and not rbac.check_permission("vic", "data:write")
    assert rbac.check_role_hierarchy("admin", "viewer") and not rbac.check_role_hierarchy("viewer", "admin")
    assert rbac.effective_roles("alice") == {"admin", "editor", "viewer"}


def test_rb2_cycles_refused(rbac: RBAC) -> None:
    rbac.add_inheritance("admin", "editor")
    rbac.add_inheritance("editor", "viewer")
    for role, parent in (("editor", "admin"), ("viewer", "admin"), ("admin", "admin")):
        with pytest.raises(RoleCycleError):
            rbac.add_inheritance(role, parent)
    with pytest.raises(ValueError):
        rbac.manage_roles("inherit", "viewer", "editor")
    rbac.assign_role("u", "viewer")
    assert rbac.check_permission("u", "anything") is False


def test_rb3_depth_limit_consistent() -> None:
    rbac = RBAC(max_depth=3)
    chain = [f"r{i}" for i in range(6)]
    for child, parent in zip(chain, chain[1:]):
        rbac.add_inheritance(child, parent)
    for role in chain:
        rbac.grant_permission(role, f"p:{role}")
    rbac.assign_role("u", "r0")
    listed = rbac.effective_roles("u")
    assert listed == {"r0", "r1", "r2", "r3"}
    for role in chain:
        assert rbac.check_permission("u", f"p:{role}") == (role in listed)
        assert rbac.check_role_hierarchy("r0", role) == (role in listed)
    assert rbac.effective_permissions("u") == {f"p:{r}" for r in listed}


def test_rb4_revoke_visible_on_next_check(rbac: RBAC) -> None:
    rbac.grant_permission("viewer", "data:read")
    rbac.add_inheritance("admin", "viewer")
    rbac.assign_role("alice", "admin")
    assert rbac.check_permission("alice", "data:read")
    rbac.revoke_permission("viewer", "data:read")
    assert not rbac.check_permission("alice", "data:read")
    rbac.grant_permission("viewer", "data:read")
    assert rbac.check_permission("alice", "data:read")
    rbac.remove_inheritance("admin", "viewer")
    assert not rbac.check_permission("alice", "data:read")
    rbac.add_inheritance("admin", "viewer")
    rbac.unassign_role("alice", "admin")
    assert not rbac.check_permission("alice", "data:read")
    rbac.assign_role("alice", "admin")
    rbac.delete_role("viewer")
    assert not rbac.check_permission("alice", "data:read") and "viewer" not in rbac.roles()


def test_rb5_deny_by_default_exact_names_and_wildcards(rbac: RBAC, caplog: pytest.LogCaptureFixture) -> None:
    rbac.grant_permission("r", "data:read")
    rbac.grant_permission("ops", "ops:*")
    rbac.assign_role("u", "r")
    rbac.assign_role("o", "ops")
    assert not rbac.check_permission("u", "data:readwrite") and not rbac.check_permission("u", "data:rea")
    assert not rbac.check_permission("nobody", "data:read") and not rbac.check_permission("u", "unknown")
    assert not rbac.check_permission(["unhashable"], "data:read")  # type: ignore[arg-type]
    assert rbac.check_permission("o", "ops:restart") and not rbac.check_permission("o", "opsx")
    rbac.grant_permission("root", "*")
    rbac.assign_role("admin", "root")
    assert rbac.check_permission("admin", "anything:at:all")
    with caplog.at_level(logging.WARNING, logger="swfast.security"):
        with pytest.raises(PermissionDenied):
            rbac.require_permission("u", "data:write")
    assert "permission_denied" in caplog.text and "kind=permission_denied" in caplog.text
    rbac.require_permission("u", "data:read")
    with pytest.raises(ConfigurationError):
        rbac.grant_permission("r", "")
    with pytest.raises(ConfigurationError):
        rbac.manage_roles("explode", "r")


def _oracle_allowed(parents, grants, assigned, max_depth, user, perm) -> bool:  # type: ignore[no-untyped-def]
    depth = {r: 0 for r in assigned.get(user, ())}
    queue = deque(depth)
    while queue:
        node = queue.popleft()
        if depth[node] >= max_depth:
            continue
        for p in parents.get(node, ()):
            if p not in depth:
                depth[p] = depth[node] + 1
                queue.append(p)
    for role in depth:
        for g in grants.get(role, ()):
            if g == perm or (g.endswith("*") and perm.startswith(g[:-1])):
                return True
    return False


def _reaches(parents, start, target) -> bool:  # type: ignore[no-untyped-def]
    seen, stack = {start}, [start]
    while stack:
        n = stack.pop()
        if n == target:
            return True
        for p in parents.get(n, ()):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return False


def test_rb6_model_10000_random_graphs(impl) -> None:  # type: ignore[no-untyped-def]
    kernel = impl.load("rbac")
    rng = random.Random(7)
    perms_pool = ["a:read", "a:write", "b:read", "a:*", "*", "b:readwrite"]
    for _ in range(10_000):
        n_roles = rng.randint(1, 7)
        roles = [f"r{i}" for i in range(n_roles)]
        users = ["u0", "u1"]
        max_depth = rng.randint(0, 4)
        rbac = RBAC(max_depth=max_depth, index=kernel.PermissionIndex())
        parents: dict[str, set[str]] = {}
        grants: dict[str, set[str]] = {}
        assigned: dict[str, set[str]] = {}
        for _ in range(rng.randint(1, 14)):
            op = rng.random()
            if op < 0.35:
                child, parent = rng.choice(roles), rng.choice(roles)
                cycle = child == parent or _reaches(parents, parent, child)
                if cycle:
                    with pytest.raises(RoleCycleError):
                        rbac.add_inheritance(child, parent)
                else:
                    rbac.add_inheritance(child, parent)
                    parents.setdefault(child, set()).add(parent)
            elif op < 0.6:
                role, perm = rng.choice(roles), rng.choice(perms_pool[:4] if rng.random() < 0.9 else perms_pool)
                rbac.grant_permission(role, perm)
                grants.setdefault(role, set()).add(perm)
            elif op < 0.7:
                role, perm = rng.choice(roles), rng.choice(perms_pool)
                rbac.revoke_permission(role, perm)
                grants.get(role, set()).discard(perm)
            elif op < 0.9:
                user, role = rng.choice(users), rng.choice(roles)
                rbac.assign_role(user, role)
                assigned.setdefault(user, set()).add(role)
            else:
                child = rng.choice(roles)
                if parents.get(child):
                    parent = rng.choice(sorted(parents[child]))
                    rbac.remove_inheritance(child, parent)
                    parents[child].discard(parent)
            user, perm = rng.choice(users), rng.choice(perms_pool + ["c:read"])
            assert rbac.check_permission(user, perm) == _oracle_allowed(parents, grants, assigned, max_depth, user, perm)
        for user in users:
            for perm in perms_pool:
                expected = _oracle_allowed(parents, grants, assigned, max_depth, user, perm)
                assert rbac.check_permission(user, perm) == expected


def test_rb6_sixteen_threads_grant_revoke_check(rbac: RBAC) -> None:
    for i in range(20):
        rbac.add_inheritance(f"r{i + 1}", f"r{i}")
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def work(n: int) -> None:
        rng = random.Random(n)
        try:
            barrier.wait()
            for _ in range(400):
                role = f"r{rng.randrange(21)}"
                op = rng.random()
                if op < 0.2:
                    rbac.grant_permission(role, f"p{rng.randrange(5)}")
                elif op < 0.4:
                    rbac.revoke_permission(role, f"p{rng.randrange(5)}")
                elif op < 0.45:
                    rbac.assign_role(f"u{rng.randrange(4)}", role)
                else:
                    rbac.check_permission(f"u{rng.randrange(4)}", f"p{rng.randrange(5)}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for u in range(4):  # after the storm, the index agrees with a fresh computation
        for p in range(5):
            expected = f"p{p}" in rbac.effective_permissions(f"u{u}")
            assert rbac.check_permission(f"u{u}", f"p{p}") == expected
