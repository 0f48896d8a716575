"""Role-based access control with multi-level inheritance and a precomputed closure.

Roles form a partial order: ``add_inheritance("admin", "editor")`` gives admin every permission
of editor (and, transitively, of whatever editor inherits). A cycle is refused at assignment
(:class:`~swfast.errors.RoleCycleError`, a ``ValueError``). Inheritance is followed at most
``max_depth`` levels, and the same limit applies to :meth:`RBAC.check_permission`,
:meth:`RBAC.effective_roles` and :meth:`RBAC.check_role_hierarchy` (casbin #1404).

Deny by default: unknown users, roles and permissions give False; names match exactly, except a
granted ``"prefix:*"`` which matches every permission starting with ``"prefix:"`` (and ``"*"``,
which matches everything). Each user's effective permissions are computed once into a compiled
index (``swfast._native.rbac``), so ``check_permission`` is O(1); every change clears the index
under the policy lock, so the next check after a revoke is False.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Iterable

from .._native.rbac import PermissionIndex
from ..errors import ConfigurationError, PermissionDenied, RoleCycleError
from .events import security_event


def _name(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(param, "must be a non-empty string")
    return value


class RBAC:
    """Users, roles, permissions. Thread-safe; checks take no lock.

    Args:
        max_depth: inheritance levels followed from a user's assigned roles.
        index: a permission index (``PermissionIndex`` from either kernel); compiled by default.
    """

    def __init__(self, *, max_depth: int = 10, index: Any = None) -> None:
        if max_depth < 0:
            raise ConfigurationError("max_depth", "must be >= 0")
        self.max_depth = max_depth
        self._lock = threading.RLock()
        self._roles: dict[str, set[str]] = {}  # role -> granted permissions
        self._parents: dict[str, set[str]] = {}  # role -> roles it inherits from
        self._users: dict[Any, set[str]] = {}  # user -> assigned roles
        self._index = index if index is not None else PermissionIndex()
        self._check = self._index.check

    # -- policy changes --------------------------------------------------------------------
    def _changed(self) -> None:
        self._index.clear()

    def create_role(self, role: str) -> None:
        """Declare a role (granting to an unknown role creates it too)."""
        _name(role, "role")
        with self._lock:
            self._roles.setdefault(role, set())
            self._parents.setdefault(role, set())

    def delete_role(self, role: str) -> None:
        """Remove a role, its grants, its inheritance edges and every assignment of it."""
        with self._lock:
            self._roles.pop(role, None)
            self._parents.pop(role, None)
            for parents in self._parents.values():
                parents.discard(role)
            for roles in self._users.values():
                roles.discard(role)
            self._changed()

    def add_inheritance(self, role: str, parent: str) -> None:
        """Make ``role`` inherit every permission of ``parent``.

        Raises:
            RoleCycleError: ``parent`` already inherits from ``role`` (or they are equal).
        """
        _name(role, "role")
        _name(parent, "parent")
        with self._lock:
            if role == parent or self._reaches(parent, role):
                raise RoleCycleError(f"role {role!r} cannot inherit {parent!r}: it would create a cycle")
            self.create_role(role)
            self.create_role(parent)
            self._parents[role].add(parent)
            self._changed()

    def remove_inheritance(self, role: str, parent: str) -> None:
        """Undo :meth:`add_inheritance`."""
        with self._lock:
            self._parents.get(role, set()).discard(parent)
            self._changed()

    def manage_roles(self, action: str, role: str, parent: "str | None" = None) -> None:
        """One entry point: ``action`` is ``create``, ``delete``, ``inherit`` or ``uninherit``."""
        if action == "create":
            self.create_role(role)
        elif action == "delete":
            self.delete_role(role)
        elif action in ("inherit", "uninherit"):
            if parent is None:
                raise ConfigurationError("parent", f"action {action!r} needs parent=")
            (self.add_inheritance if action == "inherit" else self.remove_inheritance)(role, parent)
        else:
            raise ConfigurationError("action", "must be 'create', 'delete', 'inherit' or 'uninherit'")

    def grant_permission(self, role: str, permission: str) -> None:
        """Grant ``permission`` (exact, or ``"prefix:*"``/``"*"``) to ``role``."""
        _name(permission, "permission")
        with self._lock:
            self.create_role(role)
            self._roles[role].add(permission)
            self._changed()

    def revoke_permission(self, role: str, permission: str) -> None:
        """Withdraw a grant; the very next check reflects it."""
        with self._lock:
            self._roles.get(role, set()).discard(permission)
            self._changed()

    def assign_role(self, user: Any, role: str) -> None:
        """Give ``user`` the role (a privilege change: regenerate the user's session id)."""
        with self._lock:
            self.create_role(role)
            self._users.setdefault(user, set()).add(role)
            self._changed()

    def unassign_role(self, user: Any, role: str) -> None:
        """Take the role away from ``user``."""
        with self._lock:
            self._users.get(user, set()).discard(role)
            self._changed()

    # -- queries ---------------------------------------------------------------------------
    def _reaches(self, start: str, target: str) -> bool:
        seen = {start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == target:
                return True
            for p in self._parents.get(node, ()):
                if p not in seen:
                    seen.add(p)
                    queue.append(p)
        return False

    def _closure(self, roles: Iterable[str]) -> set[str]:
        """Roles reachable from ``roles`` within ``max_depth`` inheritance levels (BFS)."""
        depth = {r: 0 for r in roles if r in self._roles}
        queue = deque(depth)
        while queue:
            node = queue.popleft()
            d = depth[node]
            if d >= self.max_depth:
                continue
            for p in self._parents.get(node, ()):
                if p not in depth:
                    depth[p] = d + 1
                    queue.append(p)
        return set(depth)

    def effective_roles(self, user: Any) -> set[str]:
        """Every role ``user`` holds directly or by inheritance (same depth limit as checks)."""
        with self._lock:
            return self._closure(self._users.get(user, ()))

    def effective_permissions(self, user: Any) -> set[str]:
        """Every permission granted to the user's effective roles."""
        with self._lock:
            out: set[str] = set()
            for role in self._closure(self._users.get(user, ())):
                out |= self._roles[role]
            return out

    def _fill(self, user: Any, permission: Any) -> bool:
        try:
            hash(user)
        except TypeError:
            return False
        with self._lock:
            perms = self.effective_permissions(user)
            prefixes = tuple(sorted(p[:-1] for p in perms if p.endswith("*")))
            self._index.set(user, frozenset(p for p in perms if not p.endswith("*")), prefixes)
            result = self._check(user, permission)
        return bool(result)

    def check_permission(self, user: Any, permission: str) -> bool:
        """True when ``user`` holds ``permission``; False for anything unknown (deny by default)."""
        result = self._check(user, permission)
        if result is None:
            return self._fill(user, permission)
        return result

    def require_permission(self, user: Any, permission: str) -> None:
        """Raise :class:`~swfast.errors.PermissionDenied` (and log the denial) unless allowed."""
        if not self.check_permission(user, permission):
            security_event("permission_denied", "denied", user=user, level=logging.WARNING, permission=permission)
            raise PermissionDenied(f"permission {permission!r} denied")

    def check_role_hierarchy(self, role: str, ancestor: str) -> bool:
        """True when ``role`` inherits ``ancestor`` (or is it) within ``max_depth`` levels."""
        with self._lock:
            if role not in self._roles:
                return False
            return ancestor in self._closure((role,))

    def roles(self) -> list[str]:
        """Every declared role, sorted."""
        with self._lock:
            return sorted(self._roles)


__all__ = ["RBAC"]
