/*
 * test_pixels.c — a learner process with pixel observations (--pixels=1, 16x16 RGB) on
 * 127.0.0.1, spoken to by a raw actor: a Hello without images or of another shape is refused,
 * a segment with images of the run's shape is stored, and malformed image segments (another
 * shape, no images, byte count not matching the shape) are rejected and counted under named
 * reasons in /stats and /metrics while the replay keeps what it had. Then a real actor process
 * renders 16x16 pictures of its envs (EGL) and the learner stores its segments without a
 * bad_image; and a pixels learner that would train a policy of the state vector (sac) is
 * refused at start, saying so.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "actor/env.h"
#include "actor/pixcam.h"
#include "common/util.h"
#include "deploy/rldt/statsc.h"
#include "proto/wire.h"
#include "tests/harness.h"
#include "tests/spawn.h"

enum { S = 16, IB = S * S * 3 };

static char bin[512], dir[] = "/tmp/rldt-pixels-XXXXXX";
static int port[4];
static char stats_port[16];
static void *zctx;
static struct wire_decoder *dec;
static uint8_t buf[1 << 20];

// a learner or an actor (prog) of the pixels run on base..base+3, its log in dir/log; extra:
// one more flag (NULL: none)
static pid_t start(const char *prog, int base, const char *log, const char *extra)
{
    char path[600], a[4][64], rd[300], logp[400];
    snprintf(path, sizeof(path), "%s/%s", bin, prog);
    spawn_port_flags(a, base);
    snprintf(rd, sizeof(rd), "--run-dir=%s", dir);
    snprintf(logp, sizeof(logp), "%s/%s", dir, log);
    // collect only: training never starts; actors act at random
    char *argv[] = {path,
                    "--algo=sac",
                    "--env=hopper",
                    "--chunk=1",
                    "--pixels=1",
                    "--image-size=16",
                    "--min-replay=1000",
                    "--collect-only=1",
                    "--warmup-steps=1000",
                    "--replay-size=1000",
                    "--max-episode-steps=1000",
                    "--num-envs=2",
                    a[0],
                    a[1],
                    a[2],
                    a[3],
                    rd,
                    (char *)extra,
                    NULL};
    return spawn_logged(path, argv, logp);
}

static pid_t start_learner(void)
{
    int base = spawn_free_ports(4);
    for (int i = 0; i < 4; i++)
        port[i] = base + i;
    snprintf(stats_port, sizeof(stats_port), "%d", port[3]);
    return start("rldt-learner", base, "learner.log", NULL);
}

static json_t *stats_wait(void)
{
    json_t *d = NULL;
    for (double until = rl_now() + 15; rl_now() < until && !(d = spawn_stats(stats_port));)
        rl_sleep(0.1);
    return d;
}

// poll until the stats value at section.key reaches want (5 s); the last value
static double wait_num(const char *section, const char *key, double want)
{
    double v = -1;
    for (double until = rl_now() + 5; rl_now() < until && v < want; rl_sleep(0.05)) {
        json_t *d = spawn_stats(stats_port);
        v = d ? spawn_num(json_object_get(d, section), key) : -1;
        json_decref(d);
    }
    return v;
}

static void *sock_to(int type, int p)
{
    void *s = zmq_socket(zctx, type);
    int linger = 0, tmo = 3000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
    char ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", p);
    T_EQ_INT(zmq_connect(s, ep), 0);
    return s;
}

// pack m into buf; its length
static size_t pack(const struct wire_msg *m)
{
    size_t len = 0;
    T_EQ_INT(wire_pack(m, buf, sizeof(buf), &len), 0);
    return len;
}

// send a Hello with image shape im on ctl; the Welcome (borrowed from dec) or NULL
static const struct wire_welcome *hello(void *ctl, struct wire_image_shape im, struct wire_msg *out)
{
    struct wire_msg m = spawn_hello("cam", false);
    m.hello.image = im;
    zmq_send(ctl, buf, pack(&m), 0);
    for (;;) {
        int n = zmq_recv(ctl, buf, sizeof(buf), 0);
        if (n < 0)
            return NULL;
        if (!wire_decode(dec, buf, (size_t)n, out, NULL, 0) && out->type == WIRE_WELCOME)
            return &out->welcome;
    }
}

static double rejected(const char *reason)
{
    json_t *d = spawn_stats(stats_port);
    double v = d ? spawn_num(json_object_get(d, "rejected"), reason) : -1;
    json_decref(d);
    return v;
}

static void test_pixels(void)
{
    void *ctl = sock_to(ZMQ_DEALER, port[0]), *push = sock_to(ZMQ_PUSH, port[1]);
    struct wire_msg w;
    // Hellos without images, or of another size, are refused with the reason
    const struct wire_welcome *r = hello(ctl, (struct wire_image_shape){0, 0, 0}, &w);
    T_CHECK(r && !r->accepted && strstr(r->reason, "images"));
    r = hello(ctl, (struct wire_image_shape){S, S, 4}, &w);
    T_CHECK(r && !r->accepted);
    r = hello(ctl, (struct wire_image_shape){S, S, 3}, &w);
    T_CHECK(r && r->accepted);
    if (!r || !r->accepted)
        return;
    uint32_t id = r->actor_id;
    uint64_t epoch = r->run_epoch;
    struct wire_session ses = r->session;
    // a segment of 2 steps with images of the run's shape
    struct spawn_seg st;
    static uint8_t img[3 * IB];
    for (size_t i = 0; i < sizeof(img); i++)
        img[i] = (uint8_t)(i * 7);
    struct wire_msg m = spawn_tiny_segment(&st);
    m.segment.run_epoch = epoch;
    m.segment.actor_id = id;
    m.segment.session = ses;
    m.segment.image = (struct wire_image_shape){S, S, 3};
    m.segment.images = img;
    zmq_send(push, buf, pack(&m), 0);
    T_EQ_INT(wait_num("replay", "size", 2), 2);
    // another shape (8x32 has the same byte count), no images at all, and bytes that do not
    // match the shape (image_h edited in the packed message: field 41, varint 16 -> 17)
    double bad0 = rejected("bad_image"), dec0 = rejected("decode_error");
    m.segment.seq = 2;
    m.segment.image = (struct wire_image_shape){8, 32, 3};
    zmq_send(push, buf, pack(&m), 0);
    m.segment.seq = 3;
    m.segment.image = (struct wire_image_shape){0, 0, 0};
    m.segment.images = NULL;
    zmq_send(push, buf, pack(&m), 0);
    m.segment.seq = 4;
    m.segment.image = (struct wire_image_shape){S, S, 3};
    m.segment.images = img;
    size_t len = pack(&m);
    const uint8_t dims[] = {0xc8, 0x02, S, 0xd0, 0x02, S, 0xd8, 0x02, 3};
    uint8_t *at = NULL;
    for (size_t i = 0; i + sizeof(dims) <= len; i++)
        if (!memcmp(buf + i, dims, sizeof(dims)))
            at = buf + i;
    T_CHECK(at != NULL);
    if (at)
        at[2] = S + 1;
    zmq_send(push, buf, len, 0);
    for (double until = rl_now() + 5; rl_now() < until && rejected("decode_error") < dec0 + 1;)
        rl_sleep(0.05);
    T_EQ_INT(rejected("bad_image"), bad0 + 2);
    T_EQ_INT(rejected("decode_error"), dec0 + 1);
    // nothing of them reached the replay; its memory per step counts the images
    json_t *d = spawn_stats(stats_port);
    json_t *rp = d ? json_object_get(d, "replay") : NULL;
    T_EQ_INT(spawn_num(rp, "size"), 2);
    T_CHECK_MSG(spawn_num(rp, "bytes_per_step") > IB, "%g bytes per step",
                spawn_num(rp, "bytes_per_step"));
    json_decref(d);
    // the reason is a Prometheus series too
    char err[256];
    char *prom = NULL;
    int status = 0;
    statsc_get("127.0.0.1", stats_port, "/metrics", 1.0, &status, &prom, NULL, err, sizeof(err));
    T_CHECK_MSG(prom && strstr(prom, "reason=\"bad_image\""), "%s", prom ? "series missing" : err);
    free(prom);
    zmq_close(push);
    zmq_close(ctl);
}

// can this process render (EGL on Mesa's surfaceless platform)?
static bool can_render(char *why, size_t n)
{
    struct env_model *m = env_model_load("hopper", NULL, why, n);
    struct pixcam *c = m ? pixcam_new(m, S, "default", why, n) : NULL;
    bool ok = c != NULL;
    pixcam_destroy(&c);
    env_model_destroy(&m);
    return ok;
}

// a real actor process renders its envs' observations: the learner stores its segments
static void test_actor_renders(void)
{
    char why[512];
    if (!can_render(why, sizeof(why))) {
        printf("pixels: no actor part (cannot render here: %s)\n", why);
        return;
    }
    double bad0 = rejected("bad_image"), dec0 = rejected("decode_error");
    json_t *d = spawn_stats(stats_port);
    double size0 = d ? spawn_num(json_object_get(d, "replay"), "size") : -1;
    json_decref(d);
    pid_t actor = start("rldt-actor", port[0], "actor.log", "--actor-name=cam-actor");
    T_CHECK(actor > 0);
    double got = -1;
    for (double until = rl_now() + 40; rl_now() < until && got < size0 + 200; rl_sleep(0.1)) {
        d = spawn_stats(stats_port);
        got = d ? spawn_num(json_object_get(d, "replay"), "size") : -1;
        json_decref(d);
    }
    T_CHECK_MSG(got >= size0 + 200, "replay holds %g steps, %g before the actor", got, size0);
    T_EQ_INT(rejected("bad_image"), bad0);
    T_EQ_INT(rejected("decode_error"), dec0);
    T_CHECK(waitpid(actor, NULL, WNOHANG) == 0); /* still acting */
    spawn_kill_all(&actor, 1);
    if (t_failed) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "tail -n 20 %s/actor.log", dir);
        if (system(cmd) != 0)
            printf("no actor log\n");
    }
}

// a pixels learner whose algorithm would train from the states (sac) is refused, saying why
static void test_refuses_training(void)
{
    char log[600];
    snprintf(log, sizeof(log), "%s/train.log", dir);
    pid_t p = start("rldt-learner", spawn_free_ports(4), "train.log", "--collect-only=0");
    T_CHECK(p > 0);
    int st = spawn_wait(p, 20);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0, "status %d", st);
    if (st < 0)
        spawn_kill_all(&p, 1);
    FILE *f = fopen(log, "r");
    static char text[8192];
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = 0;
    if (f)
        fclose(f);
    T_CHECK_MSG(strstr(text, "pixels = true trains only a pixel policy"), "log: %s", text);
}

int main(void)
{
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return 1;
    zctx = zmq_ctx_new();
    dec = wire_decoder_new(sizeof(buf));
    pid_t learner = start_learner();
    T_CHECK(learner > 0);
    json_t *d = stats_wait();
    T_CHECK_MSG(d != NULL, "learner did not come up");
    json_decref(d);
    if (d) {
        T_RUN(test_pixels);
        T_RUN(test_actor_renders);
    }
    T_RUN(test_refuses_training);
    if (learner > 0) {
        kill(learner, SIGKILL);
        waitpid(learner, NULL, 0);
    }
    if (t_failed) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "tail -n 20 %s/learner.log", dir);
        if (system(cmd) != 0)
            printf("no learner log\n");
    }
    wire_decoder_destroy(&dec);
    zmq_ctx_term(zctx);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return T_DONE("pixels");
}
