/*
 * mock-cluster: librdkafka's built-in mock Kafka cluster as a standalone process, so tests can run our
 * client and codecs against a second, independent broker implementation.
 *
 *   mock-cluster <brokers> [topic:partitions[:replication] ...]
 *
 * Prints the bootstrap string as the first line of stdout, then serves until stdin reaches EOF or the
 * process gets SIGTERM/SIGINT. Tying the lifetime to stdin means a crashed parent never leaks a cluster.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
        (void)sig;
        stopping = 1;
}

static int usage(const char *argv0) {
        fprintf(stderr, "usage: %s <brokers> [topic:partitions[:replication] ...]\n", argv0);
        return 2;
}

int main(int argc, char **argv) {
        char errstr[512];
        int broker_cnt;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mcluster;
        struct sigaction sa;
        int i;

        if (argc < 2)
                return usage(argv[0]);
        broker_cnt = atoi(argv[1]);
        if (broker_cnt < 1 || broker_cnt > 64)
                return usage(argv[0]);

        conf = rd_kafka_conf_new();
        /* The mock cluster needs a host handle; a producer that never produces is the cheapest one. */
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "conf: %s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }

        mcluster = rd_kafka_mock_cluster_new(rk, broker_cnt);
        if (!mcluster) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        for (i = 2; i < argc; i++) {
                char name[256];
                int partitions = 1, replication = 1;
                const char *colon = strchr(argv[i], ':');
                size_t len = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
                rd_kafka_resp_err_t err;

                if (len == 0 || len >= sizeof(name))
                        return usage(argv[0]);
                memcpy(name, argv[i], len);
                name[len] = '\0';
                if (colon && sscanf(colon + 1, "%d:%d", &partitions, &replication) < 1)
                        return usage(argv[0]);
                if (replication > broker_cnt)
                        replication = broker_cnt;
                err = rd_kafka_mock_topic_create(mcluster, name, partitions, replication);
                if (err) {
                        fprintf(stderr, "topic %s: %s\n", name, rd_kafka_err2str(err));
                        return 1;
                }
        }

        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        /* No SA_RESTART: the blocking read below must return EINTR so we can shut down cleanly. */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        while (!stopping) {
                char buf[256];
                ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
                if (r == 0)
                        break;
                if (r < 0 && errno != EINTR)
                        break;
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
