/*
 * fuzz_config: a configuration file (YAML, read with libyaml) through
 * config_load_file (resolver/daemon/config.c): the event walk (top mapping, lists,
 * the redis: section), every key's setter and the parsers behind them
 * (addresses and ports, CIDR prefixes in resolver/daemon/acl.c, sizes, Redis URLs
 * in cache/redis.c, secrets, local zones and data in resolver/core/localzone.c)
 * and the error messages. A file that loads is
 * then given to config_from_args as --config FILE, which also runs the checks
 * across keys.
 *
 * The input is the file's bytes; it is written to a memfd and opened by its
 * /proc/self/fd path, so nothing lands on disk. Keys such as secret-file name
 * other files: fopen is wrapped (-Wl,--wrap=fopen64, see CMakeLists.txt) to
 * read regular files only, so a path like /dev/stdin cannot block a run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolver/daemon/config.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
FILE *__real_fopen(const char *name, const char *mode);
FILE *__real_fopen64(const char *name, const char *mode);
FILE *__wrap_fopen(const char *name, const char *mode);
FILE *__wrap_fopen64(const char *name, const char *mode);

/* Reading only regular files; everything else (libFuzzer writing crash
 * inputs, too) goes to the real fopen. The project is built with
 * _FILE_OFFSET_BITS=64, where glibc's headers call fopen64. */
static bool refused(const char *name, const char *mode) {
  struct stat st;
  if (mode[0] == 'r' && stat(name, &st) == 0 && !S_ISREG(st.st_mode)) {
    errno = EACCES;
    return true;
  }
  return false;
}

FILE *__wrap_fopen(const char *name, const char *mode) {
  return refused(name, mode) ? NULL : __real_fopen(name, mode);
}

FILE *__wrap_fopen64(const char *name, const char *mode) {
  return refused(name, mode) ? NULL : __real_fopen64(name, mode);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fd = memfd_create("chaindns-fuzz-config", MFD_CLOEXEC);
  if (fd < 0) {
    perror("memfd_create");
    abort();
  }
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return 0;
}

static void die(const char *what, const char *err) {
  fprintf(stderr, "fuzz_config: %s: %s\n", what, err);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) abort();

  struct config cfg;
  char err[512];
  memset(err, 0xff, sizeof err);
  config_defaults(&cfg);
  int rc = config_load_file(&cfg, path, err, sizeof err);
  if (rc != 0 && rc != -1) die("unexpected return value", "");
  if (rc == -1) {
    if (!memchr(err, 0, sizeof err)) die("error message not terminated", "");
    if (strncmp(err, path, strlen(path)) != 0) die("error message without the file", err);
    config_clear(&cfg);
    return 0;
  }
  if (cfg.nlisten == 0 || cfg.nlisten > CONFIG_MAX_LISTEN) die("listen addresses", "");
  if (cfg.redis.nreplicas > REDIS_MAX_REPLICAS || cfg.redis.nsentinels > REDIS_MAX_SENTINELS)
    die("redis lists", "");
  if (cfg.redis.secret.len > sizeof cfg.redis.secret.key) die("secret length", "");

  char *argv[] = {"chaindns", "--config", path, NULL};
  struct config cfg2;
  config_defaults(&cfg2);
  err[0] = 0;
  rc = config_from_args(&cfg2, 3, argv, err, sizeof err);
  if (rc != 0 && rc != -1) die("config_from_args returned", err);
  config_clear(&cfg);
  config_clear(&cfg2);
  return 0;
}
