/*
 * bench_wire.c — `rldt bench wire`: pack and decode (unpack + validation) time of one segment
 * message of the task's shape (--env, --chunk, --segment-len), next to memcpy of the same bytes
 * measured in the same run. Single-threaded, no sockets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"
#include "proto/wire.h"

enum { ROUNDS = 5 };

// a segment of T random chunk steps of 1..H env steps each
static int fill(struct wire_segbuf *b, uint32_t T, uint32_t H)
{
    struct rng r;
    float *x = malloc(((size_t)b->obs_dim + b->D) * sizeof(*x));
    if (!x)
        return -ENOMEM;
    rng_init(&r, 1234, 0);
    rng_normal_fill(&r, x, b->obs_dim);
    wire_segbuf_start(b, x, true);
    for (uint32_t t = 0; t < T; t++) {
        rng_normal_fill(&r, x, (long)b->obs_dim + b->D);
        wire_segbuf_push(b, x + b->obs_dim, (float)rng_normal(&r), 1 + (t % H), x, false, false);
    }
    free(x);
    return 0;
}

struct times {
    double pack, decode, copy; /* seconds per call */
};

// one round: iters packs, iters decodes, iters memcpy of the packed bytes
static int round_times(const struct wire_msg *m, uint8_t *buf, uint8_t *copy, size_t cap,
                       struct wire_decoder *d, int iters, struct times *t)
{
    size_t len = 0;
    int rc = 0;
    double t0 = rl_now();
    for (int i = 0; i < iters && !rc; i++)
        rc = wire_pack(m, buf, cap, &len);
    double t1 = rl_now();
    struct wire_msg out;
    for (int i = 0; i < iters && !rc; i++)
        rc = wire_decode(d, buf, len, &out, NULL, 0);
    double t2 = rl_now();
    for (int i = 0; i < iters && !rc; i++) {
        memcpy(copy, buf, len);
        buf[i % len] ^= copy[(i + 1) % len] & 1; /* keep the copy from being elided */
    }
    double t3 = rl_now();
    *t = (struct times){(t1 - t0) / iters, (t2 - t1) / iters, (t3 - t2) / iters};
    return rc;
}

static int run(const struct rl_config *c, uint32_t O, uint32_t D)
{
    struct wire_segbuf b;
    int rc = wire_segbuf_init(&b, O, D, (uint32_t)c->segment_len);
    if (rc)
        return rc;
    struct wire_msg m = {.type = WIRE_SEGMENT};
    uint8_t *buf = NULL, *copy = NULL;
    struct wire_decoder *d = NULL;
    if ((rc = fill(&b, (uint32_t)c->segment_len, (uint32_t)c->chunk)))
        goto out_free;
    wire_segbuf_view(&b, &m.segment);
    m.segment.run_epoch = 1;
    size_t cap = wire_packed_size(&m);
    buf = malloc(cap);
    copy = malloc(cap);
    d = wire_decoder_new(cap);
    rc = buf && copy && d ? 0 : -ENOMEM;
    /* a short calibration round sizes the rounds to about secs in all */
    struct times t = {1, 1, 1};
    if (!rc)
        rc = round_times(&m, buf, copy, cap, d, 10, &t);
    int iters = (int)RL_MAX(10, c->secs / ROUNDS / (t.pack + t.decode + t.copy));
    double pack[ROUNDS], dec[ROUNDS], cp[ROUNDS];
    for (int k = 0; k < ROUNDS && !rc; k++) {
        rc = round_times(&m, buf, copy, cap, d, iters, &t);
        pack[k] = t.pack, dec[k] = t.decode, cp[k] = t.copy;
    }
    if (!rc) {
        double p = bench_median(pack, ROUNDS), q = bench_median(dec, ROUNDS);
        double y = bench_median(cp, ROUNDS);
        printf("segment %s T=%d obs=%u D=%u: %zu bytes, %d calls x %d rounds (medians)\n", c->env,
               c->segment_len, O, D, cap, iters, ROUNDS);
        printf("pack %.2f us, decode+validate %.2f us, memcpy %.3f us: ratio memcpy/pack %.3f, "
               "memcpy/decode %.3f\n",
               p * 1e6, q * 1e6, y * 1e6, y / p, y / q);
    }
out_free:
    wire_decoder_destroy(&d);
    free(buf);
    free(copy);
    wire_segbuf_fini(&b);
    return rc;
}

static int keyed_run(struct rl_config *c)
{
    int rc;
    const struct task_info *task = task_find(c->env);
    if (!task) {
        fprintf(stderr, "rldt bench wire: unknown task '%s'\n", c->env);
        return 2;
    }
    rc = run(c, (uint32_t)task->obs_dim, (uint32_t)(task->act_dim * c->chunk));
    if (rc)
        fprintf(stderr, "rldt bench wire: %s\n", strerror(-rc));
    return rc ? 1 : 0;
}

static const struct cmd_keyed keyed = {
    "rldt bench wire", "rldt bench wire [--env=TASK] [--chunk=H] [--segment-len=T] [--secs=S]",
    "run,env,actor,bench", keyed_run};
CMD_KEYED(bench_wire, keyed)
