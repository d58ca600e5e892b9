/*
 * tblog.c — TensorBoard event files: protobuf-c packs the Event messages of
 * proto/tensorboard.proto into a preallocated buffer, framed as TFRecords. Like every
 * proto/ source file (and only those), it includes generated protobuf-c code.
 */
#include "proto/tblog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/util.h"
#include "tensorboard.pb-c.h"

#define TBLOG_BUF (64 * 1024)
#define TBLOG_FRAME 16 /* 8-byte length, 4-byte length CRC, 4-byte data CRC */
#define TBLOG_NAME_TRIES 100

struct tblog {
    int fd;
    int err;           /* first write error (negative errno), sticky */
    double last_flush; /* rl_now() of the last flush */
    size_t len;        /* bytes buffered */
    uint8_t buf[TBLOG_BUF];
    char path[PATH_MAX];
};

uint32_t tblog_masked_crc(const void *buf, size_t n)
{
    uint32_t c = hash_crc32c(0, buf, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int tblog_flush(struct tblog *t)
{
    if (t->err)
        return t->err;
    t->last_flush = rl_now();
    if (t->len == 0)
        return 0;
    int rc = rl_write_all(t->fd, t->buf, t->len);
    t->len = 0;
    if (rc < 0)
        t->err = rc;
    return rc;
}

// frame one event as a TFRecord at the end of the buffer (flushing first when it does not fit)
static int append_event(struct tblog *t, const Rldt__Tb__Event *ev)
{
    size_t n = rldt__tb__event__get_packed_size(ev);
    RL_ASSERT(n + TBLOG_FRAME <= TBLOG_BUF); /* tags are cut to TBLOG_TAG_MAX */
    if (t->len + n + TBLOG_FRAME > TBLOG_BUF) {
        int rc = tblog_flush(t);
        if (rc < 0)
            return rc;
    }
    uint8_t *r = t->buf + t->len;
    put_le(r, n, 8);
    put_le(r + 8, tblog_masked_crc(r, 8), 4);
    size_t packed = rldt__tb__event__pack(ev, r + 12);
    RL_ASSERT(packed == n);
    put_le(r + 12 + n, tblog_masked_crc(r + 12, n), 4);
    t->len += n + TBLOG_FRAME;
    return 0;
}

// an event holding one summary value v (borrowed) at step, in o's storage
struct one_summary {
    Rldt__Tb__Value *vs[1];
    Rldt__Tb__Summary s;
    Rldt__Tb__Event ev;
};

static Rldt__Tb__Event *one_summary(struct one_summary *o, Rldt__Tb__Value *v, int64_t step)
{
    o->vs[0] = v;
    o->s = (Rldt__Tb__Summary)RLDT__TB__SUMMARY__INIT;
    o->s.n_value = 1;
    o->s.value = o->vs;
    o->ev = (Rldt__Tb__Event)RLDT__TB__EVENT__INIT;
    o->ev.wall_time = rl_wall();
    o->ev.step = step;
    o->ev.what_case = RLDT__TB__EVENT__WHAT_SUMMARY;
    o->ev.summary = &o->s;
    return &o->ev;
}

int tblog_scalar(struct tblog *t, const char *tag, int64_t step, double value)
{
    if (t->err)
        return t->err;
    char cut[TBLOG_TAG_MAX + 1];
    snprintf(cut, sizeof(cut), "%s", tag);
    Rldt__Tb__Value v = RLDT__TB__VALUE__INIT;
    v.tag = cut;
    v.value_case = RLDT__TB__VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = (float)value;
    struct one_summary o;
    Rldt__Tb__Event *ev = one_summary(&o, &v, step);
    int rc = append_event(t, ev);
    if (rc == 0 && rl_now() - t->last_flush >= TBLOG_FLUSH_SECS)
        rc = tblog_flush(t);
    return rc;
}

int tblog_image(struct tblog *t, const char *tag, int64_t step, int width, int height,
                const uint8_t *data, size_t len)
{
    if (t->err)
        return t->err;
    if (len == 0 || len > ((size_t)512 << 20))
        return -EINVAL;
    char cut[TBLOG_TAG_MAX + 1];
    snprintf(cut, sizeof(cut), "%s", tag);
    Rldt__Tb__Image img = RLDT__TB__IMAGE__INIT;
    img.height = height;
    img.width = width;
    img.colorspace = 3;
    img.encoded_image_string = (ProtobufCBinaryData){len, (uint8_t *)data};
    Rldt__Tb__Value v = RLDT__TB__VALUE__INIT;
    v.tag = cut;
    v.value_case = RLDT__TB__VALUE__VALUE_IMAGE;
    v.image = &img;
    struct one_summary o;
    Rldt__Tb__Event *ev = one_summary(&o, &v, step);
    // one record in its own buffer, after what is buffered
    size_t n = rldt__tb__event__get_packed_size(ev);
    uint8_t *r = malloc(n + TBLOG_FRAME);
    if (!r)
        return -ENOMEM;
    put_le(r, n, 8);
    put_le(r + 8, tblog_masked_crc(r, 8), 4);
    RL_ASSERT(rldt__tb__event__pack(ev, r + 12) == n);
    put_le(r + 12 + n, tblog_masked_crc(r + 12, n), 4);
    int rc = tblog_flush(t);
    if (rc == 0 && (rc = rl_write_all(t->fd, r, n + TBLOG_FRAME)) < 0)
        t->err = rc;
    free(r);
    return rc;
}

// create <dir>/events.out.tfevents.<secs>.<host>.rldt; a taken name moves to the next second
// (TensorBoard reads the files of a directory in name order)
static int create_file(struct tblog *t, const char *dir, char *err, size_t errlen)
{
    char host[256] = "localhost";
    if (gethostname(host, sizeof(host)) != 0 || !host[0])
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = 0;
    for (char *p = host; *p; p++)
        if (*p == '/')
            *p = '_';
    long long secs = (long long)time(NULL);
    for (int i = 0; i < TBLOG_NAME_TRIES; i++) {
        int n = snprintf(t->path, sizeof(t->path), "%s/events.out.tfevents.%lld.%s.rldt", dir,
                         secs + i, host);
        if (n < 0 || (size_t)n >= sizeof(t->path)) {
            snprintf(err, errlen, "event file path in '%s' is too long", dir);
            return -ENAMETOOLONG;
        }
        t->fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (t->fd >= 0)
            return 0;
        if (errno != EEXIST) {
            int e = errno;
            snprintf(err, errlen, "cannot create %s: %s", t->path, strerror(e));
            return -e;
        }
    }
    snprintf(err, errlen, "cannot create an event file in %s: %d names taken", dir,
             TBLOG_NAME_TRIES);
    return -EEXIST;
}

struct tblog *tblog_open(const char *dir, char *err, size_t errlen)
{
    struct tblog *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->fd = -1;
    if (create_file(t, dir, err, errlen) < 0)
        goto err_free;
    Rldt__Tb__Event ev = RLDT__TB__EVENT__INIT;
    ev.wall_time = rl_wall();
    ev.what_case = RLDT__TB__EVENT__WHAT_FILE_VERSION;
    ev.file_version = "brain.Event:2";
    int rc = append_event(t, &ev);
    if (rc == 0)
        rc = tblog_flush(t);
    if (rc < 0) {
        snprintf(err, errlen, "cannot write %s: %s", t->path, strerror(-rc));
        goto err_close;
    }
    return t;
err_close:
    close(t->fd);
    unlink(t->path);
err_free:
    free(t);
    return NULL;
}

const char *tblog_path(const struct tblog *t)
{
    return t->path;
}

void tblog_close(struct tblog **pt)
{
    struct tblog *t = pt ? *pt : NULL;
    if (!t)
        return;
    tblog_flush(t);
    close(t->fd);
    free(t);
    *pt = NULL;
}
