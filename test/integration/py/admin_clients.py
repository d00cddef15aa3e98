"""Admin operations from kafka-python 2.0.2 (KafkaAdminClient) and confluent-kafka 1.7.0 (AdminClient).

Usage: admin_clients.py kafka-python|confluent-kafka BOOTSTRAP PREFIX
Runs a fixed scenario against the broker and prints one JSON object with what each step returned, so the
test asserts on the results. Topic names start with PREFIX.
"""
import json
import sys
import time


def kafka_python(bootstrap, prefix):
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
    from kafka.errors import KafkaError

    out = {}
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin", request_timeout_ms=10000)
    main = prefix + "main"

    def codes(response, field="topic_errors"):
        return [[entry[0], entry[1]] for entry in getattr(response, field)]

    def error_name(call):
        try:
            call()
            return None
        except KafkaError as error:
            return type(error).__name__

    out["create"] = codes(admin.create_topics(
        [NewTopic(main, 2, 1, topic_configs={"retention.ms": "3600000"})], timeout_ms=5000))
    out["create_again"] = error_name(lambda: admin.create_topics([NewTopic(main, 2, 1)], timeout_ms=5000))
    out["create_bad_partitions"] = error_name(
        lambda: admin.create_topics([NewTopic(prefix + "zero", 0, 1)], timeout_ms=5000))
    out["create_bad_replication"] = error_name(
        lambda: admin.create_topics([NewTopic(prefix + "rf3", 1, 3)], timeout_ms=5000))
    out["validate_only"] = codes(admin.create_topics(
        [NewTopic(prefix + "dry", 1, 1)], timeout_ms=5000, validate_only=True))
    out["create_partitions"] = codes(admin.create_partitions({main: NewPartitions(4)}, timeout_ms=5000))
    out["create_partitions_fewer"] = error_name(
        lambda: admin.create_partitions({main: NewPartitions(3)}, timeout_ms=5000))
    out["topics_after_create"] = sorted(t for t in admin.list_topics() if t.startswith(prefix))
    out["partitions"] = {t["topic"]: len(t["partitions"]) for t in admin.describe_topics([main])}

    def describe(resource, **kwargs):
        responses = admin.describe_configs([resource], **kwargs)
        result = []
        for response in responses:
            for error_code, error_message, rtype, rname, entries in response.resources:
                configs = {e[0]: {"value": e[1], "read_only": e[2], "source": e[3], "sensitive": e[4],
                                  "synonyms": [list(s) for s in e[5]]} for e in entries}
                result.append({"error": error_code, "name": rname, "configs": configs})
        return result

    out["describe_topic"] = describe(ConfigResource(ConfigResourceType.TOPIC, main), include_synonyms=True)
    alter = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, main,
                                                configs={"retention.ms": "7200000", "cleanup.policy": "compact"})])
    out["alter"] = [[r[0], r[3]] for r in alter.resources]
    out["describe_after_alter"] = describe(
        ConfigResource(ConfigResourceType.TOPIC, main, configs={"retention.ms": None, "cleanup.policy": None}))
    out["describe_broker"] = describe(
        ConfigResource(ConfigResourceType.BROKER, "0", configs={"num.partitions": None, "log.retention.hours": None}))
    cluster = admin.describe_cluster()
    out["cluster"] = {"cluster_id": cluster["cluster_id"], "controller_id": cluster["controller_id"],
                      "brokers": [[b["node_id"], b["host"], b["port"]] for b in cluster["brokers"]]}
    out["delete"] = codes(admin.delete_topics([main], timeout_ms=5000), "topic_error_codes")
    out["delete_again"] = error_name(lambda: admin.delete_topics([main], timeout_ms=5000))
    out["topics_after_delete"] = sorted(t for t in admin.list_topics() if t.startswith(prefix))
    out["api_version"] = list(admin.config["api_version"])
    admin.close()
    return out


def confluent(bootstrap, prefix):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

    out = {}
    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "confluent-kafka-admin"})
    main = prefix + "main"

    def wait(futures):
        result = {}
        for key, future in futures.items():
            try:
                value = future.result(timeout=15)
                result[str(key)] = value if value is None or isinstance(value, (int, str)) else "ok"
            except KafkaException as error:
                result[str(key)] = error.args[0].name()
        return result

    out["create"] = wait(admin.create_topics(
        [NewTopic(main, num_partitions=2, replication_factor=1, config={"retention.ms": "3600000"})]))
    out["create_again"] = wait(admin.create_topics([NewTopic(main, num_partitions=1, replication_factor=1)]))
    out["create_bad"] = wait(admin.create_topics([
        NewTopic(prefix + "bad!name", num_partitions=1, replication_factor=1),
        NewTopic(prefix + "rf3", num_partitions=1, replication_factor=3),
        NewTopic(prefix + "badcfg", num_partitions=1, replication_factor=1, config={"retention.ms": "soon"}),
    ]))
    out["validate_only"] = wait(admin.create_topics(
        [NewTopic(prefix + "dry", num_partitions=1, replication_factor=1)], validate_only=True))
    out["create_partitions"] = wait(admin.create_partitions([NewPartitions(main, 3)]))
    out["create_partitions_same"] = wait(admin.create_partitions([NewPartitions(main, 3)]))
    metadata = admin.list_topics(timeout=10)
    out["topics_after_create"] = sorted(t for t in metadata.topics if t.startswith(prefix))
    out["partitions"] = {t: len(metadata.topics[t].partitions) for t in out["topics_after_create"]}
    out["cluster"] = {"cluster_id": metadata.cluster_id, "controller_id": metadata.controller_id,
                      "brokers": [[b.id, b.host, b.port] for b in metadata.brokers.values()]}

    def describe(resource):
        futures = admin.describe_configs([resource])
        configs = {}
        for future in futures.values():
            for name, entry in future.result(timeout=15).items():
                configs[name] = {"value": entry.value, "source": entry.source, "read_only": entry.is_read_only,
                                 "default": entry.is_default, "sensitive": entry.is_sensitive,
                                 "synonyms": sorted(entry.synonyms.keys())}
        return configs

    out["describe_topic"] = describe(ConfigResource("topic", main))
    out["alter"] = wait(admin.alter_configs(
        [ConfigResource("topic", main, set_config={"retention.ms": "7200000", "max.message.bytes": "2000000"})]))
    out["alter_bad"] = wait(admin.alter_configs([ConfigResource("topic", main, set_config={"no.such.config": "1"})]))
    out["describe_after_alter"] = describe(ConfigResource("topic", main))
    out["describe_broker"] = describe(ConfigResource("broker", "0"))
    out["alter_broker"] = wait(admin.alter_configs(
        [ConfigResource("broker", "0", set_config={"log.retention.hours": "1"})]))
    out["delete"] = wait(admin.delete_topics([main]))
    out["delete_again"] = wait(admin.delete_topics([main]))
    time.sleep(0.2)
    metadata = admin.list_topics(timeout=10)
    out["topics_after_delete"] = sorted(t for t in metadata.topics if t.startswith(prefix))
    return out


if __name__ == "__main__":
    client, bootstrap, prefix = sys.argv[1:4]
    run = kafka_python if client == "kafka-python" else confluent
    print(json.dumps(run(bootstrap, prefix)))
