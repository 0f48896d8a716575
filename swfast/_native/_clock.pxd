# cython: language_level=3
"""The one clock of the compiled kernels (cimported, inlined; no module of its own).

``mono()`` is ``CLOCK_MONOTONIC`` in seconds, the C twin of :func:`time.monotonic` (which the
pure-Python twins call); ``wall()`` is ``CLOCK_REALTIME``, the twin of :func:`time.time`.
Kernels ``from swfast._native._clock cimport mono`` instead of keeping their own copy.
"""
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC, CLOCK_REALTIME


cdef inline double mono() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9


cdef inline double wall() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9
