"""asv benchmarks for swfast.messaging: validation, JSON and the embedded transport.

Both implementations run through asv's ``SWFAST_NO_EXTENSIONS`` matrix; peers (fastjsonschema,
jsonschema, msgspec, orjson, json) are measured in the same run through ``_messaging_peers``.
Broker throughput (raw confluent-kafka against KafkaService on tansu) is in the quick run
(``benchmarks/quick/test_messaging.py``), which starts its own broker.
"""
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import _messaging_peers as peers  # noqa: E402


class Validate:
    params = ["swfast", "fastjsonschema", "jsonschema", "msgspec"]
    param_names = ["impl"]

    def setup(self, impl):
        self.data = peers.SAMPLE_DICT
        if impl == "swfast":
            from swfast.messaging import is_valid_data_request
            self.fn = is_valid_data_request
        elif impl == "fastjsonschema":
            self.fn = peers.fastjsonschema_validator()
        elif impl == "jsonschema":
            self.fn = peers.jsonschema_validator().is_valid
        else:
            import msgspec
            typ = peers.msgspec_types()
            self.fn = lambda d: msgspec.convert(d, typ)

    def time_valid_request(self, impl):
        self.fn(self.data)


class Encode:
    params = ["swfast", "orjson", "json", "msgspec"]
    param_names = ["impl"]

    def setup(self, impl):
        if impl == "swfast":
            self.fn = peers.SAMPLE.to_json
        elif impl == "orjson":
            import orjson
            self.fn = lambda: orjson.dumps(peers.SAMPLE_DICT)
        elif impl == "json":
            self.fn = lambda: json.dumps(peers.SAMPLE_DICT)
        else:
            import msgspec
            obj = msgspec.json.decode(peers.SAMPLE_JSON, type=peers.msgspec_types())
            self.fn = lambda: msgspec.json.encode(obj)

    def time_to_json(self, impl):
        self.fn()


class Decode:
    params = ["swfast", "msgspec", "orjson-untyped", "json+fastjsonschema"]
    param_names = ["impl"]

    def setup(self, impl):
        raw = peers.SAMPLE_JSON
        if impl == "swfast":
            from swfast.messaging import DataRequest
            self.fn = lambda: DataRequest.from_json(raw)
        elif impl == "msgspec":
            import msgspec
            dec = msgspec.json.Decoder(peers.msgspec_types())
            self.fn = lambda: dec.decode(raw)
        elif impl == "orjson-untyped":
            import orjson
            self.fn = lambda: orjson.loads(raw)
        else:
            validate = peers.fastjsonschema_validator()
            self.fn = lambda: validate(json.loads(raw))

    def time_from_json(self, impl):
        self.fn()


class LosslessCodec:
    """The message codec (lossless or refused) against plain orjson on the same dict and bytes."""

    params = ["swfast", "orjson"]
    param_names = ["impl"]

    def setup(self, impl):
        import orjson

        from swfast.messaging import _codec
        self.obj = {"id": 123, "name": "event", "values": [1, 2, 3], "ts": 1.5, "note": None}
        self.data = orjson.dumps(self.obj)
        self.dumps = _codec.dumps if impl == "swfast" else orjson.dumps
        self.loads = _codec.loads_exact if impl == "swfast" else orjson.loads

    def time_dumps(self, impl):
        self.dumps(self.obj)

    def time_loads(self, impl):
        self.loads(self.data)


class EmbeddedTransport:
    """send_batch then consume-and-handle through a subscription, no broker."""

    params = [1000, 10000]
    param_names = ["messages"]

    def setup(self, n):
        from swfast.messaging import KafkaService
        from swfast.messaging._embedded import EmbeddedBroker
        self.n = n
        self.values = [peers.SAMPLE_JSON] * n
        self.make = lambda: KafkaService("", embedded=EmbeddedBroker())

    def time_send_batch(self, n):
        async def run():
            async with self.make() as svc:
                await svc.send_batch("t", self.values)
        asyncio.run(run())

    def time_send_and_consume(self, n):
        async def run():
            async with self.make() as svc:
                done = asyncio.Event()
                seen = [0]

                def handle(_):
                    seen[0] += 1
                    if seen[0] == n:
                        done.set()
                await svc.subscribe("t", "g", handle)
                await svc.send_batch("t", self.values)
                await done.wait()
        asyncio.run(run())


def timeraw_import_messaging():
    return "import swfast.messaging"
