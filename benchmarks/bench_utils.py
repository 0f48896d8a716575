"""asv benchmarks of swfast.utils against named peers (adapters in ``_utils_peers.py``).

Run both implementations through asv's ``SWFAST_NO_EXTENSIONS`` matrix. The peers (fastjsonschema,
jsonschema, msgspec, hazm when importable, NumPy) are timed in the same run so every figure reads
as a ratio.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import _utils_peers as peers  # noqa: E402


class SchemaValidation:
    params = [["swfast", "fastjsonschema", "jsonschema", "msgspec"], ["message", "batch100"]]
    param_names = ["impl", "document"]

    def setup(self, impl, document):
        from swfast.utils import compile_schema

        schema, self.data = ((peers.MESSAGE_SCHEMA, peers.MESSAGE) if document == "message"
                             else (peers.BATCH_SCHEMA, peers.BATCH))
        if impl == "msgspec":
            if document != "message":
                raise NotImplementedError  # asv: skip this combination
            self.fn = peers.msgspec_message_converter()
        elif impl == "swfast":
            self.fn = compile_schema(schema).validate
        elif impl == "fastjsonschema":
            self.fn = peers.fastjsonschema_validator(schema)
        else:
            self.fn = peers.jsonschema_validator(schema)
        self.fn(self.data)

    def time_validate(self, impl, document):
        self.fn(self.data)


class SchemaCompile:
    def time_compile_uncached(self):
        from swfast.utils.schema import clear_cache, compile_schema

        clear_cache()
        compile_schema(peers.MESSAGE_SCHEMA)


class PersianNormalize:
    params = [["swfast", "hazm", "hazm-reimpl"]]
    param_names = ["impl"]

    def setup(self, impl):
        from swfast.utils import normalize_text

        if impl == "swfast":
            self.fn = normalize_text
        elif impl == "hazm-reimpl":
            self.fn = peers.HazmReimpl().normalize
        else:
            name, fn = peers.hazm_normalizer()
            if name != "hazm":
                raise NotImplementedError  # hazm not importable here
            self.fn = fn

    def time_normalize_corpus(self, impl):
        for s in peers.PERSIAN_CORPUS:
            self.fn(s)


class Statistics:
    params = [["swfast", "swfast-numpy-engine", "numpy"], [10**4, 10**6]]
    param_names = ["impl", "n"]

    def setup(self, impl, n):
        from swfast.utils import statistical_analysis, warmup

        self.a = np.random.default_rng(0).standard_normal(n)
        if impl == "numpy":
            self.fn = peers.numpy_stats
        else:
            engine = "numpy" if impl == "swfast-numpy-engine" else "auto"
            warmup(engine)
            self.fn = lambda a: statistical_analysis(a, engine=engine)

    def time_moments_and_percentiles(self, impl, n):
        self.fn(self.a)


class Matrices:
    params = [["swfast", "numpy"]]
    param_names = ["impl"]

    def setup(self, impl):
        from swfast.utils import matrix_calculations, warmup

        rng = np.random.default_rng(1)
        self.a, self.b = rng.standard_normal((64, 128)), rng.standard_normal((2000, 128))
        self.m = rng.standard_normal((256, 256))
        if impl == "swfast":
            warmup()
            self.mm = lambda: matrix_calculations("matmul", self.m, self.m)
            self.nn = lambda: matrix_calculations("nearest", self.a, self.b, k=10)
        else:
            self.mm = lambda: self.m @ self.m
            self.nn = lambda: peers.numpy_cosine_topk(self.a, self.b, 10)

    def time_matmul_256(self, impl):
        self.mm()

    def time_cosine_top10(self, impl):
        self.nn()


def timeraw_import_swfast_utils():
    return "import swfast.utils; swfast.utils.compile_schema"
