/*
 * A one-broker Kafka-protocol server for tests, built on librdkafka's mock cluster (Debian's kcat has no mock mode).
 *
 *   kafka-mock BOOTSTRAP_FILE [TOPIC:PARTITIONS ...]
 *
 * Pre-creates the given topics (others are auto-created by the mock with 4 partitions), writes the cluster's
 * "host:port" bootstrap string to BOOTSTRAP_FILE once it is ready, and serves until SIGTERM or SIGINT.
 * librdkafka cannot pick the mock's port, so the file is how callers find it.
 *
 * Build: gcc -O2 -o kafka-mock kafka-mock.c -lrdkafka
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "kafka-mock: %s: %s\n", what, detail);
  return 1;
}

/* Writes via a temporary file and rename, so a reader never sees a half-written address. */
static int write_bootstrap(const char *path, const char *bootstraps) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -1;
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  int ok = fprintf(f, "%s\n", bootstraps) > 0;
  ok = (fclose(f) == 0) && ok;
  return ok ? rename(tmp, path) : -1;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec) {
  char name[512];
  const char *colon = strrchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  int partitions = colon ? atoi(colon + 1) : 1;
  if (len == 0 || len >= sizeof name || partitions < 1) return fail("bad topic spec (want name:partitions)", spec);
  memcpy(name, spec, len);
  name[len] = '\0';
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, partitions, 1);
  if (err) return fail(name, rd_kafka_err2str(err));
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BOOTSTRAP_FILE [TOPIC:PARTITIONS ...]\n", argv[0]);
    return 2;
  }

  /* Block the stop signals before librdkafka starts its threads, so they all inherit the mask and sigwait()
   * below is the only place the signals are delivered. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only anchors the mock cluster and never talks to a broker itself, so its notice that no
   * bootstrap.servers is configured is noise: keep warnings and errors only. */
  if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
    return fail("log_level", errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) return fail("rd_kafka_new", errstr);

  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (!mc) return fail("rd_kafka_mock_cluster_new", "failed");

  for (int i = 2; i < argc; i++)
    if (create_topic(mc, argv[i])) return 1;

  const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
  if (write_bootstrap(argv[1], bootstraps) != 0) return fail("cannot write bootstrap file", argv[1]);
  fprintf(stderr, "kafka-mock: serving on %s\n", bootstraps);

  int sig = 0;
  sigwait(&stop, &sig);
  fprintf(stderr, "kafka-mock: signal %d, shutting down\n", sig);

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  remove(argv[1]);
  return 0;
}
