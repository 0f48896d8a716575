"""asv: the demo's request path per request, swfast against the glued peers (see _pipeline_paths).

``time_request`` is one pass of 500 requests; asv divides nothing, so per request = time / 500.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))

import _pipeline_paths as paths  # noqa: E402

N = 500


class Pipeline:
    params = (["swfast", "glued-peers"], ["hit", "miss"])
    param_names = ["impl", "cache"]
    number = 1
    repeat = 5

    def setup(self, impl, cache):
        self.dir = tempfile.TemporaryDirectory(prefix="swfast-asv-")
        build = paths.swfast_path if impl == "swfast" else paths.peer_path
        self.handle, self.close = build(self.dir.name)
        self.bodies = paths.requests(N, fresh=cache == "miss")
        if cache == "hit":
            for b in self.bodies:
                self.handle(b)

    def teardown(self, impl, cache):
        self.close()
        self.dir.cleanup()

    def time_request(self, impl, cache):
        handle = self.handle
        for b in self.bodies:
            handle(b)
