"""confluent-kafka (librdkafka) idempotent producer for the idempotence test; JSON request on stdin.

  {"bootstrap", "topic", "count", "pause_every", "pause_ms"}
Sends `count` records, value "<i>" and key "k<i mod 97>", with enable.idempotence=true, pausing now and then so
that the test's connection cuts and broker restarts land in the middle of the stream. Prints
{"acks": [[partition, offset], ...] in send order, "errors": [...]} and exits 0 even when some failed: the
test judges the result.
"""
import json
import sys
import time

from confluent_kafka import Producer


def main():
    op = json.load(sys.stdin)
    producer = Producer(
        {
            "bootstrap.servers": op["bootstrap"],
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "batch.num.messages": 200,
            "retry.backoff.ms": 50,
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500,
            "message.timeout.ms": 120000,
            "socket.timeout.ms": 10000,
        }
    )
    count = op["count"]
    acks = [None] * count
    errors = []

    def report(index):
        def cb(err, msg):
            if err is not None:
                errors.append("%d: %s" % (index, err))
            else:
                acks[index] = [msg.partition(), msg.offset()]

        return cb

    for i in range(count):
        while True:
            try:
                producer.produce(op["topic"], key=b"k%d" % (i % 97), value=b"%d" % i, on_delivery=report(i))
                break
            except BufferError:
                producer.poll(0.05)
        if (i + 1) % op["pause_every"] == 0:
            producer.poll(op["pause_ms"] / 1000.0)
    remaining = producer.flush(120)
    if remaining:
        errors.append("%d undelivered after flush" % remaining)
    json.dump({"acks": acks, "errors": errors[:20]}, sys.stdout)


if __name__ == "__main__":
    main()
