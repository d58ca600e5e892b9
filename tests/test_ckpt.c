/* test_ckpt.c — container round trip, atomic replace, and every kind of damage detected. */
#include "common/ckpt.h"
#include "common/hash.h"
#include "common/rng.h"
#include "tests/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/rldt-ckpt-XXXXXX";
static char path[300];

static float wa[1000];
static double wb[37];

static int write_sample(uint64_t layout)
{
    struct rng r;
    rng_init(&r, 5, 0);
    rng_normal_fill(&r, wa, 1000);
    for (int i = 0; i < 37; i++)
        wb[i] = rng_uniform(&r);
    struct ckpt_writer *w = ckpt_writer_new("CKPT", layout);
    char err[256];
    int rc = ckpt_add(w, "actor", wa, sizeof(wa));
    rc |= ckpt_add(w, "critic", wb, sizeof(wb));
    rc |= ckpt_add(w, "empty", NULL, 0);
    rc |= ckpt_writer_save(w, path, err, sizeof(err));
    ckpt_writer_destroy(&w);
    T_CHECK(w == NULL);
    return rc;
}

static void test_roundtrip(void)
{
    T_EQ_INT(write_sample(0x1234), 0);
    char err[256];
    struct ckpt *c = ckpt_load(path, "CKPT", 0x1234, err, sizeof(err));
    T_CHECK_MSG(c != NULL, "%s", err);
    if (!c)
        return;
    float a[1000];
    double b[37];
    T_EQ_INT(ckpt_read(c, "actor", a, sizeof(a), err, sizeof(err)), 0);
    T_EQ_INT(ckpt_read(c, "critic", b, sizeof(b), err, sizeof(err)), 0);
    T_CHECK(!memcmp(a, wa, sizeof(a)) && !memcmp(b, wb, sizeof(b)));
    size_t n = 99;
    T_CHECK(ckpt_get(c, "empty", &n) != NULL && n == 0);
    T_CHECK(ckpt_get(c, "nope", &n) == NULL);
    T_EQ_INT(ckpt_read(c, "actor", a, 4, err, sizeof(err)), -EPROTO);
    T_EQ_INT(ckpt_read(c, "nope", a, 4, err, sizeof(err)), -ENOENT);
    T_EQ_INT(ckpt_layout_hash(c), 0x1234);
    ckpt_destroy(&c);
    ckpt_destroy(&c); /* NULL is a no-op */
}

static void test_bad_names(void)
{
    struct ckpt_writer *w = ckpt_writer_new("CKPT", 1);
    T_EQ_INT(ckpt_add(w, "a", wa, 4), 0);
    T_EQ_INT(ckpt_add(w, "a", wa, 4), -EINVAL);
    T_EQ_INT(ckpt_add(w, "", wa, 4), -EINVAL);
    char longname[CKPT_NAME_MAX + 1];
    memset(longname, 'n', CKPT_NAME_MAX);
    longname[CKPT_NAME_MAX] = 0;
    T_EQ_INT(ckpt_add(w, longname, wa, 4), -EINVAL);
    ckpt_writer_destroy(&w);
    T_CHECK(ckpt_writer_new("TOOLONG", 1) == NULL);
}

static void test_wrong_layout_kind(void)
{
    T_EQ_INT(write_sample(0x1234), 0);
    char err[256];
    T_CHECK(ckpt_load(path, "CKPT", 0x9999, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "layout"), "%s", err);
    T_CHECK(ckpt_load(path, "DSET", 0, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "expected 'DSET'"), "%s", err);
    T_CHECK(ckpt_load("/nonexistent/x.ckpt", "CKPT", 0, err, sizeof(err)) == NULL);
}

static long file_size(void)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_truncation(void)
{
    T_EQ_INT(write_sample(7), 0);
    long size = file_size();
    char err[256];
    int detected = 0, tried = 0;
    // every truncation length near the ends and a stride through the middle
    for (long len = 0; len < size; len += (len < 200 || len > size - 200) ? 1 : 97) {
        T_EQ_INT(write_sample(7), 0);
        T_EQ_INT(truncate(path, len), 0);
        struct ckpt *c = ckpt_load(path, "CKPT", 7, err, sizeof(err));
        tried++;
        detected += c == NULL;
        ckpt_destroy(&c);
    }
    T_EQ_INT(detected, tried);
    T_EQ_INT(write_sample(7), 0);
    T_EQ_INT(truncate(path, size - 10), 0);
    T_CHECK(ckpt_load(path, "CKPT", 7, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "truncated"), "%s", err);
}

static void flip(long off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    T_CHECK(pread(fd, &b, 1, off) == 1);
    b ^= mask;
    T_CHECK(pwrite(fd, &b, 1, off) == 1);
    close(fd);
}

static void test_bitflips(void)
{
    T_EQ_INT(write_sample(7), 0);
    long size = file_size();
    char err[256];
    struct rng r;
    rng_init(&r, 77, 0);
    int detected = 0;
    for (int i = 0; i < 300; i++) {
        T_EQ_INT(write_sample(7), 0);
        flip((long)rng_below(&r, (uint64_t)size), (uint8_t)(1u << rng_below(&r, 8)));
        struct ckpt *c = ckpt_load(path, "CKPT", 7, err, sizeof(err));
        detected += c == NULL;
        ckpt_destroy(&c);
    }
    T_EQ_INT(detected, 300);
    // a flip in the payload is reported as corruption
    T_EQ_INT(write_sample(7), 0);
    flip(size / 2, 0x10);
    T_CHECK(ckpt_load(path, "CKPT", 7, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "checksum"), "%s", err);
}

// a checksummed file whose section is not aligned is refused (readers cast payloads in place;
// found by tests/fuzz/fuzz_replay as a misaligned float load in replay_load)
static void test_misaligned_section(void)
{
    T_EQ_INT(write_sample(7), 0);
    long size = file_size();
    uint8_t *b = malloc((size_t)size);
    int fd = open(path, O_RDWR);
    T_CHECK(b && pread(fd, b, (size_t)size, 0) == size);
    b[48 + CKPT_NAME_MAX] += 4; // first section's offset (table entry 0, little-endian u64)
    uint32_t crc = hash_crc32c(0, b, (size_t)size - 4);
    for (int i = 0; i < 4; i++)
        b[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    T_CHECK(pwrite(fd, b, (size_t)size, 0) == size);
    close(fd);
    free(b);
    char err[256];
    T_CHECK(ckpt_load(path, "CKPT", 7, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "aligned"), "%s", err);
}

static void test_version(void)
{
    T_EQ_INT(write_sample(7), 0);
    flip(8, 0x02); /* version 1 -> 3 */
    char err[256];
    T_CHECK(ckpt_load(path, "CKPT", 7, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "format version 3"), "%s", err);
}

static void test_atomic_replace(void)
{
    // a failed save (directory missing) leaves no temp file and the old file intact
    T_EQ_INT(write_sample(7), 0);
    struct ckpt_writer *w = ckpt_writer_new("CKPT", 7);
    ckpt_add(w, "x", wa, 16);
    char err[256], bad[400];
    snprintf(bad, sizeof(bad), "%s/missing/sub.ckpt", dir);
    T_CHECK(ckpt_writer_save(w, bad, err, sizeof(err)) < 0);
    // a good save replaces the file; no temp file remains in the directory
    T_EQ_INT(ckpt_writer_save(w, path, err, sizeof(err)), 0);
    ckpt_writer_destroy(&w);
    struct ckpt *c = ckpt_load(path, "CKPT", 7, err, sizeof(err));
    T_CHECK(c && ckpt_get(c, "actor", NULL) == NULL && ckpt_get(c, "x", NULL) != NULL);
    ckpt_destroy(&c);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -c tmp >/dev/null", dir);
    T_CHECK(system(cmd) != 0);
}

static void test_crc32c(void)
{
    // published check value of CRC-32C for "123456789"
    T_EQ_INT(hash_crc32c(0, "123456789", 9), 0xe3069283u);
    // incremental == one shot
    uint32_t a = hash_crc32c(0, "1234", 4);
    T_EQ_INT(hash_crc32c(a, "56789", 5), 0xe3069283u);
    T_EQ_INT(hash_fnv1a(HASH_FNV_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/a.ckpt", dir);
    T_RUN(test_crc32c);
    T_RUN(test_roundtrip);
    T_RUN(test_bad_names);
    T_RUN(test_wrong_layout_kind);
    T_RUN(test_truncation);
    T_RUN(test_bitflips);
    T_RUN(test_version);
    T_RUN(test_misaligned_section);
    T_RUN(test_atomic_replace);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return T_DONE("ckpt");
}
