/*
 * util.c — see fuzz.h. Linked into every fuzz target.
 */
#include "tests/fuzz/fuzz.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"

#define HEADER_SIZE 48 /* common/ckpt.c: magic, kind, version, count, hash, total size, ... */

static char scratch[256];

static void scratch_unlink(void)
{
    unlink(scratch);
}

static const char *scratch_path(void)
{
    if (scratch[0])
        return scratch;
    // tmpfs when there is one: truncating and rewriting a disk file costs ~2 ms per input
    struct stat st;
    const char *dir = getenv("TMPDIR");
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        dir = "/dev/shm";
    snprintf(scratch, sizeof(scratch), "%s/rldt-fuzz-%ld.bin", dir && *dir ? dir : "/tmp",
             (long)getpid());
    log_set_level(LOG_OFF); // readers' warnings would flood the fuzzer's output
    atexit(scratch_unlink);
    return scratch;
}

const char *fuzz_write_scratch(const uint8_t *data, size_t size)
{
    const char *path = scratch_path();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    int rc = rl_write_all(fd, data, size);
    close(fd);
    return rc == 0 ? path : NULL;
}

static void put_le(uint8_t *p, uint64_t x, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

const char *fuzz_container_file(const uint8_t *data, size_t size)
{
    if (size == 0)
        return NULL;
    int fix = data[0] & 1;
    data++;
    size--;
    if (!fix || size < HEADER_SIZE + 4)
        return fuzz_write_scratch(data, size);
    uint8_t *b = malloc(size);
    if (!b)
        return NULL;
    memcpy(b, data, size);
    put_le(b + 24, size, 8);
    put_le(b + size - 4, hash_crc32c(0, b, size - 4), 4);
    const char *path = fuzz_write_scratch(b, size);
    free(b);
    return path;
}

void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz finding: %s\n", what);
    abort();
}

static struct rl_config config_defaults;
static bool have_config_defaults;

void fuzz_config_reset(struct rl_config *c)
{
    if (!have_config_defaults) {
        config_default(&config_defaults);
        have_config_defaults = true;
    }
    memcpy(c, &config_defaults, sizeof(*c));
}

void fuzz_config_round_trip(const struct rl_config *c, const char *what)
{
    char err[512], msg[160];
    char *a = config_to_string(c);
    if (!a)
        fuzz_fail("config_to_string failed");
    struct rl_config c2;
    fuzz_config_reset(&c2);
    if (config_load_string(&c2, a, err, sizeof(err)) != 0 ||
        config_validate(&c2, err, sizeof(err)) != 0) {
        fprintf(stderr, "reload: %s\n", err);
        snprintf(msg, sizeof(msg), "%s resolves to a config that does not load", what);
        fuzz_fail(msg);
    }
    char *b = config_to_string(&c2);
    if (!b || strcmp(a, b) != 0) {
        snprintf(msg, sizeof(msg), "%s resolves to a config that changes when reloaded", what);
        fuzz_fail(msg);
    }
    free(a);
    free(b);
}
