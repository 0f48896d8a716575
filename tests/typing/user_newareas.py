"""Logging and resource-management names from their documented paths (mypy --strict must pass)."""
from __future__ import annotations

from swfast.logging import JSONLogFormatter, SensitiveDataFilter
from swfast.resource_management import CPUAllocator, MemoryAllocator, ResourceMonitor, limits

__all__ = ["CPUAllocator", "JSONLogFormatter", "MemoryAllocator", "ResourceMonitor", "SensitiveDataFilter",
           "limits"]
