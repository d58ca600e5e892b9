/*
 * test_tblog.c — TensorBoard event files read back by an independent reader written here:
 * TFRecord framing with both masked CRCs checked by a bitwise CRC-32C, Event/Summary/Value
 * decoded by hand-written varint parsing (not protobuf-c). Also the CRC test vectors,
 * buffering and timed flushes, a crash between flushes, long tags, name clashes and errors.
 */
#include "proto/tblog.h"
#include "common/hash.h"
#include "tests/harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/rldt-tblog-XXXXXX";

// ---- the independent reader --------------------------------------------------------------

#define EV_MAX 6000

struct ev {
    double wall;
    int64_t step;
    char version[32]; /* file_version, or "" */
    char tag[300];    /* the summary's single value, or "" */
    float value;
    int nvalues;
    int img_w, img_h, img_cs; /* an image value's Summary.Image fields */
    const uint8_t *img;       /* its encoded bytes (in read_events' buffer), or NULL */
    size_t img_len;
};

static struct ev evs[EV_MAX];

static uint32_t ref_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return ~c;
}

static uint32_t ref_mask(uint32_t c)
{
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

// one varint at *p (< end); false when truncated or longer than 10 bytes
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

// a length-delimited field's body: [*p, *p + len)
static bool bytes(const uint8_t **p, const uint8_t *end, const uint8_t **body, size_t *len)
{
    uint64_t n;
    if (!varint(p, end, &n) || n > (uint64_t)(end - *p))
        return false;
    *body = *p;
    *len = (size_t)n;
    *p += n;
    return true;
}

// Summary.Image: height 1, width 2, colorspace 3 (varints), encoded_image_string 4 (bytes)
static bool parse_image(const uint8_t *p, const uint8_t *end, struct ev *e)
{
    while (p < end) {
        uint64_t key, v;
        if (!varint(&p, end, &key))
            return false;
        if (key == (4 << 3 | 2)) {
            if (!bytes(&p, end, &e->img, &e->img_len))
                return false;
        } else if ((key & 7) == 0 && key >> 3 >= 1 && key >> 3 <= 3 && varint(&p, end, &v)) {
            int *f[3] = {&e->img_h, &e->img_w, &e->img_cs};
            *f[(key >> 3) - 1] = (int)v;
        } else {
            return false;
        }
    }
    return true;
}

static bool parse_value(const uint8_t *p, const uint8_t *end, struct ev *e)
{
    while (p < end) {
        uint64_t key;
        const uint8_t *b;
        size_t n;
        if (!varint(&p, end, &key))
            return false;
        if (key == (1 << 3 | 2) && bytes(&p, end, &b, &n) && n < sizeof(e->tag)) {
            memcpy(e->tag, b, n);
            e->tag[n] = 0;
        } else if (key == (4 << 3 | 2) && bytes(&p, end, &b, &n)) {
            if (!parse_image(b, b + n, e))
                return false;
        } else if (key == (2 << 3 | 5) && end - p >= 4) {
            uint32_t bits = (uint32_t)le(p, 4);
            memcpy(&e->value, &bits, 4);
            p += 4;
        } else {
            return false;
        }
    }
    return true;
}

static bool parse_event(const uint8_t *p, const uint8_t *end, struct ev *e)
{
    memset(e, 0, sizeof(*e));
    while (p < end) {
        uint64_t key, v;
        const uint8_t *b;
        size_t n;
        if (!varint(&p, end, &key))
            return false;
        if (key == (1 << 3 | 1) && end - p >= 8) {
            uint64_t bits = le(p, 8);
            memcpy(&e->wall, &bits, 8);
            p += 8;
        } else if (key == (2 << 3 | 0) && varint(&p, end, &v)) {
            e->step = (int64_t)v;
        } else if (key == (3 << 3 | 2) && bytes(&p, end, &b, &n) && n < sizeof(e->version)) {
            memcpy(e->version, b, n);
        } else if (key == (5 << 3 | 2) && bytes(&p, end, &b, &n)) {
            // Summary: repeated Value value = 1
            const uint8_t *q = b, *qend = b + n;
            while (q < qend) {
                const uint8_t *vb;
                size_t vn;
                if (!varint(&q, qend, &key) || key != (1 << 3 | 2) || !bytes(&q, qend, &vb, &vn) ||
                    !parse_value(vb, vb + vn, e))
                    return false;
                e->nvalues++;
            }
        } else {
            return false;
        }
    }
    return true;
}

// read every record of path; returns the count, or -1 on a framing, CRC or field error
static int read_events(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static uint8_t data[1 << 20];
    size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    size_t off = 0;
    int count = 0;
    while (off < n) {
        if (n - off < 12 || count == EV_MAX)
            return -1;
        uint64_t len = le(data + off, 8);
        if ((uint32_t)le(data + off + 8, 4) != ref_mask(ref_crc32c(data + off, 8)))
            return -1;
        if (len > n - off - 16)
            return -1;
        const uint8_t *d = data + off + 12;
        if ((uint32_t)le(d + len, 4) != ref_mask(ref_crc32c(d, len)))
            return -1;
        if (!parse_event(d, d + len, &evs[count]))
            return -1;
        count++;
        off += 16 + len;
    }
    return count;
}

// ---- tests -------------------------------------------------------------------------------

static void test_crc_vectors(void)
{
    // RFC 3720 B.4 and the usual check value, for the library CRC and the reference here
    uint8_t buf[32];
    memset(buf, 0, sizeof(buf));
    T_EQ_INT(hash_crc32c(0, buf, 32), 0x8a9136aa);
    T_EQ_INT(ref_crc32c(buf, 32), 0x8a9136aa);
    memset(buf, 0xff, sizeof(buf));
    T_EQ_INT(hash_crc32c(0, buf, 32), 0x62a8ab43);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    T_EQ_INT(hash_crc32c(0, buf, 32), 0x46dd794e);
    T_EQ_INT(ref_crc32c(buf, 32), 0x46dd794e);
    T_EQ_INT(hash_crc32c(0, "123456789", 9), 0xe3069283);
    // masked: a published TFRecord test vector, the empty string, and the reference mask
    T_EQ_INT(tblog_masked_crc("1234567890asdfghjkl", 19), 4134599430u);
    T_EQ_INT(tblog_masked_crc("", 0), 0xa282ead8u);
    T_EQ_INT(tblog_masked_crc(buf, 32), ref_mask(0x46dd794e));
}

static struct tblog *open_ok(void)
{
    char err[256] = "";
    struct tblog *t = tblog_open(dir, err, sizeof(err));
    T_CHECK_MSG(t != NULL, "%s", err);
    return t;
}

static void test_roundtrip(void)
{
    double t0 = (double)time(NULL);
    struct tblog *t = open_ok();
    if (!t)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s", tblog_path(t));
    T_CHECK(strstr(path, "/events.out.tfevents.") != NULL);
    T_CHECK(strlen(path) > 5 && !strcmp(path + strlen(path) - 5, ".rldt"));
    const char *tags[] = {"return_recent", "loss/critic", "zero", "neg"};
    const double vals[] = {1234.5, 0.0625, 0.0, -3.75e7};
    const int64_t steps[] = {0, 1000, (int64_t)1 << 40, 7};
    for (int i = 0; i < 4; i++)
        T_EQ_INT(tblog_scalar(t, tags[i], steps[i], vals[i]), 0);
    tblog_close(&t);
    T_CHECK(t == NULL);
    tblog_close(&t); /* no-op */
    int n = read_events(path);
    T_EQ_INT(n, 5);
    if (n != 5)
        return;
    T_EQ_STR(evs[0].version, "brain.Event:2");
    T_EQ_INT(evs[0].nvalues, 0);
    T_CHECK(evs[0].wall >= t0 - 1 && evs[0].wall < t0 + 60);
    for (int i = 0; i < 4; i++) {
        struct ev *e = &evs[i + 1];
        T_EQ_INT(e->nvalues, 1);
        T_EQ_STR(e->tag, tags[i]);
        T_EQ_INT(e->step, steps[i]);
        T_CHECK(e->value == (float)vals[i]);
        T_EQ_STR(e->version, "");
        T_CHECK(e->wall >= evs[0].wall && e->wall < t0 + 60);
    }
}

// an image summary (bigger than the write buffer) between scalars, in order, bytes intact
static void test_image(void)
{
    struct tblog *t = open_ok();
    if (!t)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s", tblog_path(t));
    size_t len = 200 * 1000; /* > the 64 KiB buffer */
    uint8_t *img = malloc(len);
    T_CHECK(img != NULL);
    if (!img) {
        tblog_close(&t);
        return;
    }
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i * 7 + i / 251);
    T_EQ_INT(tblog_scalar(t, "before", 5, 1.5), 0);
    T_EQ_INT(tblog_image(t, "video/eval", 6, 120, 90, img, len), 0);
    T_EQ_INT(tblog_image(t, "video/eval", 6, 120, 90, img, 0), -EINVAL);
    T_EQ_INT(tblog_scalar(t, "after", 7, 2.5), 0);
    tblog_close(&t);
    int n = read_events(path);
    T_EQ_INT(n, 4);
    if (n == 4) {
        T_EQ_STR(evs[1].tag, "before");
        T_EQ_STR(evs[2].tag, "video/eval");
        T_EQ_INT(evs[2].step, 6);
        T_EQ_INT(evs[2].img_w, 120);
        T_EQ_INT(evs[2].img_h, 90);
        T_EQ_INT(evs[2].img_cs, 3);
        T_CHECK(evs[2].img_len == len && evs[2].img && !memcmp(evs[2].img, img, len));
        T_EQ_STR(evs[3].tag, "after");
        T_CHECK(evs[3].value == 2.5f && evs[3].img == NULL);
    }
    free(img);
}

// the reader above is not blind: one flipped byte anywhere in a record is an error
static void test_reader_detects_damage(void)
{
    struct tblog *t = open_ok();
    if (!t)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s", tblog_path(t));
    tblog_scalar(t, "x", 5, 1.5);
    tblog_close(&t);
    T_EQ_INT(read_events(path), 2);
    FILE *f = fopen(path, "r+b");
    struct stat st;
    stat(path, &st);
    for (long pos = 0; f && pos < st.st_size; pos += 7) {
        fseek(f, pos, SEEK_SET);
        int c = fgetc(f);
        fseek(f, pos, SEEK_SET);
        fputc(c ^ 0x10, f);
        fflush(f);
        T_CHECK_MSG(read_events(path) == -1, "flip at %ld not detected", pos);
        fseek(f, pos, SEEK_SET);
        fputc(c, f);
        fflush(f);
    }
    if (f)
        fclose(f);
    T_EQ_INT(read_events(path), 2);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

// records wait in the buffer until tblog_flush, a full buffer, or TBLOG_FLUSH_SECS
static void test_buffering(void)
{
    struct tblog *t = open_ok();
    if (!t)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s", tblog_path(t));
    long head = file_size(path);
    T_CHECK(head > 16);
    T_EQ_INT(tblog_scalar(t, "a", 1, 1.0), 0);
    T_EQ_INT(file_size(path), head);
    T_EQ_INT(tblog_flush(t), 0);
    T_CHECK(file_size(path) > head);
    T_EQ_INT(read_events(path), 2);
    // a full buffer is written whole, records never split: 5000 records are > 64 KB
    for (int i = 0; i < 5000; i++)
        T_EQ_INT(tblog_scalar(t, "bulk/value", i, i * 0.5), 0);
    long mid = file_size(path);
    T_CHECK(mid > 64 * 1024);
    T_EQ_INT(read_events(path) >= 2 + 2000, 1); /* a prefix of whole records */
    // the timed flush
    struct timespec ts = {(time_t)TBLOG_FLUSH_SECS, 200000000};
    nanosleep(&ts, NULL);
    T_EQ_INT(tblog_scalar(t, "late", 9, 2.0), 0);
    int n = read_events(path);
    T_EQ_INT(n, 5003);
    if (n == 5003) {
        T_EQ_STR(evs[5002].tag, "late");
        T_EQ_INT(evs[1234 + 2].step, 1234);
        T_CHECK(evs[1234 + 2].value == 617.0f);
    }
    tblog_close(&t);
}

// a process that dies between flushes leaves every flushed record whole and nothing else
static void test_crash(void)
{
    char path[512] = "";
    int fds[2];
    T_CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char err[256];
        struct tblog *t = tblog_open(dir, err, sizeof(err));
        if (!t)
            _exit(3);
        (void)!write(fds[1], tblog_path(t), strlen(tblog_path(t)) + 1);
        for (int i = 0; i < 10; i++)
            tblog_scalar(t, "kept", i, i);
        tblog_flush(t);
        for (int i = 0; i < 5; i++)
            tblog_scalar(t, "lost", i, i);
        abort();
    }
    close(fds[1]);
    T_CHECK(read(fds[0], path, sizeof(path)) > 0);
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    T_CHECK(WIFSIGNALED(st));
    T_EQ_INT(read_events(path), 11);
    T_EQ_STR(evs[10].tag, "kept");
    T_EQ_INT(evs[10].step, 9);
}

static void test_long_tag_and_clash(void)
{
    char tag[1000];
    memset(tag, 'q', sizeof(tag) - 1);
    tag[sizeof(tag) - 1] = 0;
    struct tblog *a = open_ok();
    struct tblog *b = open_ok(); /* same second: the next name */
    if (!a || !b)
        goto out;
    T_CHECK(strcmp(tblog_path(a), tblog_path(b)) != 0);
    T_CHECK(strcmp(tblog_path(a), tblog_path(b)) < 0); /* later file sorts later */
    T_EQ_INT(tblog_scalar(b, tag, 3, 4.0), 0);
    char pb[512];
    snprintf(pb, sizeof(pb), "%s", tblog_path(b));
    tblog_close(&b);
    T_EQ_INT(read_events(pb), 2);
    T_EQ_INT(strlen(evs[1].tag), TBLOG_TAG_MAX);
out:
    tblog_close(&a);
    tblog_close(&b);
}

static void test_bad_dir(void)
{
    char err[256] = "";
    struct tblog *t = tblog_open("/nonexistent/rldt-tblog", err, sizeof(err));
    T_CHECK(t == NULL);
    T_CHECK_MSG(strstr(err, "/nonexistent/rldt-tblog") != NULL, "%s", err);
    tblog_close(NULL);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    T_RUN(test_crc_vectors);
    T_RUN(test_roundtrip);
    T_RUN(test_image);
    T_RUN(test_reader_detects_damage);
    T_RUN(test_buffering);
    T_RUN(test_crash);
    T_RUN(test_long_tag_and_clash);
    T_RUN(test_bad_dir);
    // remove the files written
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[600];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return T_DONE("tblog");
}
