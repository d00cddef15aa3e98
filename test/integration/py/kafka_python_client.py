"""kafka-python 2.0.2 driven by a JSON request on stdin; prints a JSON result on stdout.

Request: {"bootstrap": "host:port", "ops": [op, ...]}, run in order. Ops:
  {"op": "produce", "topic", "records": [{"key", "value", "headers": [[k, v]], "partition"?}],
   "codec"?, "acks"?, "linger_ms"?, "max_request_size"?}
      -> {"acks": [{"partition", "offset"}]}  one per record, in order
  {"op": "consume", "topic", "partitions": [p], "offset": n | "beginning", "count": n,
   "timeout_ms"?, "max_partition_fetch_bytes"?, "auto_offset_reset"?}
      -> {"records": [{"partition", "offset", "key", "value", "headers"}]}  stops at count or timeout
Keys, values and header values are UTF-8 text or null.
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def text(b):
    return None if b is None else b.decode("utf-8")


def data(s):
    return None if s is None else s.encode("utf-8")


def produce(bootstrap, op):
    codec = op.get("codec", "none")
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type=None if codec == "none" else codec,
        acks=op.get("acks", 1),
        linger_ms=op.get("linger_ms", 20),
        max_request_size=op.get("max_request_size", 1048576),
        batch_size=op.get("batch_size", 16384),
        retries=0,
    )
    futures = []
    for r in op["records"]:
        futures.append(
            producer.send(
                op["topic"],
                key=data(r.get("key")),
                value=data(r.get("value")),
                headers=[(k, data(v)) for k, v in r.get("headers", [])],
                partition=r.get("partition"),
            )
        )
    producer.flush()
    acks = []
    for f in futures:
        md = f.get(timeout=30)
        acks.append({"partition": md.partition, "offset": md.offset})
    producer.close()
    return {"acks": acks}


def consume(bootstrap, op):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=op.get("max_partition_fetch_bytes", 1048576),
        fetch_max_bytes=op.get("fetch_max_bytes", 52428800),
        auto_offset_reset=op.get("auto_offset_reset", "latest"),
    )
    tps = [TopicPartition(op["topic"], p) for p in op["partitions"]]
    consumer.assign(tps)
    for tp in tps:
        if op.get("offset", "beginning") == "beginning":
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, op["offset"])
    records = []
    deadline = time.time() + op.get("timeout_ms", 30000) / 1000.0
    while len(records) < op["count"] and time.time() < deadline:
        for _tp, batch in consumer.poll(timeout_ms=500).items():
            for m in batch:
                records.append(
                    {
                        "partition": m.partition,
                        "offset": m.offset,
                        "key": text(m.key),
                        "value": text(m.value),
                        "headers": [[k, text(v)] for k, v in (m.headers or [])],
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
