"""confluent-kafka 1.7.0 (librdkafka 2.0.2) driven by a JSON request on stdin; prints a JSON result on stdout.

Same request and result shapes as kafka_python_client.py:
  {"op": "produce", "topic", "records": [...], "codec"?, "acks"?, "linger_ms"?, "message_max_bytes"?}
  {"op": "consume", "topic", "partitions": [p], "offset": n | "beginning", "count": n, "timeout_ms"?,
   "auto_offset_reset"?}
The consumer uses assign() with explicit offsets: no consumer group is joined.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition


def text(b):
    return None if b is None else b.decode("utf-8")


def data(s):
    return None if s is None else s.encode("utf-8")


def produce(bootstrap, op):
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "compression.type": op.get("codec", "none"),
            "acks": str(op.get("acks", 1)),
            "linger.ms": op.get("linger_ms", 20),
            "message.max.bytes": op.get("message_max_bytes", 1000000),
            "enable.idempotence": False,
        }
    )
    acks = [None] * len(op["records"])
    errors = []

    def report(index):
        def cb(err, msg):
            if err is not None:
                errors.append(str(err))
            else:
                acks[index] = {"partition": msg.partition(), "offset": msg.offset()}

        return cb

    for i, r in enumerate(op["records"]):
        kwargs = {"key": data(r.get("key")), "value": data(r.get("value")), "on_delivery": report(i)}
        if r.get("headers"):
            kwargs["headers"] = [(k, data(v)) for k, v in r["headers"]]
        if r.get("partition") is not None:
            kwargs["partition"] = r["partition"]
        while True:
            try:
                producer.produce(op["topic"], **kwargs)
                break
            except BufferError:
                producer.poll(0.05)
    remaining = producer.flush(30)
    if remaining or errors:
        raise RuntimeError("produce failed: %d undelivered, errors %s" % (remaining, errors[:5]))
    return {"acks": acks}


def consume(bootstrap, op):
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "fjord-it-unused",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.message.max.bytes": op.get("max_partition_fetch_bytes", 1048576),
            "auto.offset.reset": op.get("auto_offset_reset", "latest"),
        }
    )
    start = op.get("offset", "beginning")
    consumer.assign(
        [
            TopicPartition(op["topic"], p, OFFSET_BEGINNING if start == "beginning" else start)
            for p in op["partitions"]
        ]
    )
    records = []
    deadline = time.time() + op.get("timeout_ms", 30000) / 1000.0
    while len(records) < op["count"] and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        records.append(
            {
                "partition": m.partition(),
                "offset": m.offset(),
                "key": text(m.key()),
                "value": text(m.value()),
                "headers": [[k, text(v)] for k, v in (m.headers() or [])],
            }
        )
    consumer.close()
    return {"records": records}


def main():
    request = json.load(sys.stdin)
    results = []
    for op in request["ops"]:
        if op["op"] == "produce":
            results.append(produce(request["bootstrap"], op))
        elif op["op"] == "consume":
            results.append(consume(request["bootstrap"], op))
        else:
            raise ValueError("unknown op " + op["op"])
    json.dump(results, sys.stdout)


main()
