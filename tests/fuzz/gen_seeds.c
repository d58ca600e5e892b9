/*
 * gen_seeds.c — writes the fuzz targets' seed corpora with rldt's own encoders (wire_pack,
 * ckpt writer, replay_save, dataset_save, config_to_string), so the fuzzers start from what our
 * peers and our own runs really produce. `make fuzz-seeds` runs it into tests/fuzz/seeds/.
 *
 * Usage: gen_seeds DIR   (writes DIR/<target>/<name>; deterministic, small files)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/dataset.h"
#include "learner/replay.h"
#include "proto/wire.h"

static const char *root;
static int failures;

static void put(const char *target, const char *name, uint8_t mode, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    int ok = f && (mode == 0xff || fputc(mode, f) != EOF) && fwrite(p, 1, n, f) == n;
    if (!f || fclose(f) != 0 || !ok) {
        fprintf(stderr, "gen_seeds: cannot write %s\n", path);
        failures++;
    }
}

// a container file made by one of our writers, re-read as bytes, stored with a mode byte
static void put_file(const char *target, const char *name, uint8_t mode, const char *src)
{
    FILE *f = fopen(src, "rb");
    static uint8_t buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f)
        fclose(f);
    remove(src);
    if (n == 0) {
        fprintf(stderr, "gen_seeds: %s was not written\n", src);
        failures++;
        return;
    }
    put(target, name, mode, buf, n);
}

// ---- wire --------------------------------------------------------------------------------

// a session secret as a registration returns it
static const struct wire_session S = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};

static void put_msg(const char *name, const struct wire_msg *m)
{
    static uint8_t buf[1 << 16];
    size_t n = 0;
    if (wire_pack(m, buf, sizeof(buf), &n) != 0) {
        fprintf(stderr, "gen_seeds: cannot pack %s\n", name);
        failures++;
        return;
    }
    put("wire", name, 0xff, buf, n);
}

static void gen_segment(void)
{
    struct wire_segbuf b;
    float obs[3] = {0.1f, -0.2f, 0.3f}, act[4] = {0.5f, -0.5f, 0.25f, 1};
    if (wire_segbuf_init(&b, 3, 4, 4) != 0) {
        failures++;
        return;
    }
    wire_segbuf_start(&b, obs, true);
    for (int t = 0; t < 3; t++)
        wire_segbuf_push(&b, act, 1.5f * (float)t, 2, obs, false, t == 2);
    wire_segbuf_add_episode(&b, 4.5f, 6, true);
    struct wire_msg m = {.type = WIRE_SEGMENT};
    wire_segbuf_view(&b, &m.segment);
    m.segment.run_epoch = 7;
    m.segment.actor_id = 2;
    m.segment.seq = 11;
    m.segment.policy_version = 3;
    m.segment.session = S;
    put_msg("segment", &m);
    wire_segbuf_fini(&b);
}

static void gen_wire(void)
{
    static const float w[8] = {1, 2, 3, 4, 5, 6, 7, 8}, lo[2] = {-1, -2}, hi[2] = {1, 2};
    struct wire_msg m = {.type = WIRE_HELLO};
    m.hello = (struct wire_hello){.name = "host:42",
                                  .pid = 42,
                                  .num_envs = 2,
                                  .task = "hopper",
                                  .obs_dim = 11,
                                  .act_dim = 3,
                                  .chunk_h = 4};
    put_msg("hello", &m);
    m.hello.evaluator = true;
    m.hello.known_epoch = 7;
    put_msg("hello-eval", &m);
    m = (struct wire_msg){.type = WIRE_WELCOME};
    m.welcome = (struct wire_welcome){true, "", 2, 7, "[run]\nalgo = sac\n", 3, 9, 64, S, "gauss"};
    put_msg("welcome", &m);
    m = (struct wire_msg){.type = WIRE_HEARTBEAT};
    m.heartbeat = (struct wire_heartbeat){2, 7, 1000, 4, 3, 250.5f, 12, 1, 0, 0.25f, S};
    put_msg("heartbeat", &m);
    m = (struct wire_msg){.type = WIRE_HEARTBEAT_ACK};
    m.heartbeat_ack = (struct wire_heartbeat_ack){7, 3, false, 1200, false};
    put_msg("heartbeat_ack", &m);
    m.heartbeat_ack = (struct wire_heartbeat_ack){0, 0, false, 0, true};
    put_msg("heartbeat_ack-again", &m);
    m = (struct wire_msg){.type = WIRE_BYE};
    m.bye = (struct wire_bye){2, 7, "done", S};
    put_msg("bye", &m);
    m = (struct wire_msg){.type = WIRE_PARAMS_REQUEST};
    m.params_request = (struct wire_params_request){2, 7, 1, S};
    put_msg("params_request", &m);
    m = (struct wire_msg){.type = WIRE_EVAL_REPORT};
    m.eval_report = (struct wire_eval_report){2, 7, 3, 5000, 812.5f, 10, 400, 5, S, 3};
    put_msg("eval_report", &m);
    m = (struct wire_msg){.type = WIRE_PARAMS};
    m.params = (struct wire_params){.run_epoch = 7, .version = 3, .layout_hash = 0x1234};
    m.params.algo = "sac", m.params.n_weights = 8, m.params.weights = w;
    m.params.obs_dim = 2, m.params.obs_lo = lo, m.params.obs_hi = hi;
    m.params.act_dim = 2, m.params.act_lo = lo, m.params.act_hi = hi;
    m.params.publish_unix_ns = 1;
    put_msg("params", &m);
    gen_segment();
}

// ---- files -------------------------------------------------------------------------------

static void gen_ckpt(const char *tmp)
{
    static const float a[6] = {1, 2, 3, 4, 5, 6};
    static const char note[] = "seed";
    struct ckpt_writer *w = ckpt_writer_new("CKPT", 0xabcdef);
    char err[256];
    if (!w || ckpt_add(w, "weights", a, sizeof(a)) || ckpt_add(w, "note", note, sizeof(note)) ||
        ckpt_add(w, "empty", a, 0) || ckpt_writer_save(w, tmp, err, sizeof(err))) {
        failures++;
    } else {
        put_file("ckpt", "ckpt", 1, tmp);
    }
    ckpt_writer_destroy(&w);
}

static void gen_replay(const char *tmp)
{
    enum { T = 4, O = 3, D = 4 };
    float obs[(T + 1) * O], act[T * D], rew[T];
    int steps[T];
    uint8_t term[T] = {0}, trunc[T] = {0};
    struct replay *r = replay_new(16, O, D);
    char err[256];
    for (int i = 0; i < (T + 1) * O; i++)
        obs[i] = 0.1f * (float)i;
    for (int i = 0; i < T * D; i++)
        act[i] = 0.05f * (float)i - 0.5f;
    for (int s = 0; r && s < 3; s++) { // three segments, the last one ends an episode
        for (int t = 0; t < T; t++) {
            rew[t] = (float)(s + t);
            steps[t] = 4;
        }
        term[T - 1] = s == 2;
        struct replay_segment seg = {T,     obs,         act, rew,  steps, term,
                                     trunc, (uint64_t)s, 1,   NULL, NULL};
        replay_add(r, &seg);
    }
    if (!r || replay_save(r, tmp, 48, err, sizeof(err)) < 0)
        failures++;
    else {
        put_file("replay", "replay", 1, tmp);
        replay_save(r, tmp, 48, err, sizeof(err));
        put_file("replay", "replay-small", 3, tmp);
    }
    replay_destroy(&r);
}

static void gen_dataset(const char *tmp)
{
    enum { O = 11, A = 3, L = 3 };
    float obs[L * O], act[L * A], rew[L], fin[O];
    struct dataset d;
    char err[256];
    for (int i = 0; i < L * O; i++)
        obs[i] = 0.01f * (float)i;
    for (int i = 0; i < L * A; i++)
        act[i] = 0.1f * (float)i - 0.4f;
    for (int i = 0; i < L; i++)
        rew[i] = 1.0f + (float)i;
    for (int i = 0; i < O; i++)
        fin[i] = -0.01f * (float)i;
    if (dataset_init(&d, "hopper", O, A) != 0 ||
        dataset_add_episode(&d, L, obs, act, rew, fin, DATASET_EP_TERMINATED) ||
        dataset_add_episode(&d, 2, obs, act, rew, fin, DATASET_EP_CUT) ||
        dataset_fit_bounds(&d, err, sizeof(err)) || dataset_save(&d, tmp, err, sizeof(err)))
        failures++;
    else
        put_file("dataset", "dataset", 1, tmp);
    dataset_fini(&d);
}

// ---- text --------------------------------------------------------------------------------

static void gen_config(void)
{
    static const char args[] = "--algo=sac\0--env\0hopper\0--no-resume\0--seed=3\0run\0"
                               "--replay-size=100000\0--stats=127.0.0.1:0";
    static const char ini[] = "# run\n[run]\nalgo = rldt\nseed = 5 ; five\n[learner]\n"
                              "replay_size = 20000\nmin_replay = 1000\n";
    struct rl_config c;
    config_default(&c);
    char *text = config_to_string(&c);
    if (!text) {
        failures++;
        return;
    }
    put("config_ini", "resolved", 0xff, text, strlen(text));
    put("config_ini", "small", 0xff, ini, sizeof(ini) - 1);
    put("config_args", "flags", 0xff, args, sizeof(args) - 1);
    free(text);
}

static void gen_http(void)
{
    static const char *req[] = {
        "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n",
        "HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /healthz HTTP/1.0\r\n\r\nGET /nope HTTP/1.1\r\n\r\n",
        "POST /stats HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /stats?x=1 HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "request-%zu", i);
        put("statsd", name, 0xff, req[i], strlen(req[i]));
    }
    // requests that never complete before the client stops sending (the server must answer
    // or close once the write side is shut), and slow trickles (fuzz_statsd: a first byte 1
    // sends the rest in pieces of (second byte % 16) + 1 bytes)
    static const char *stall[] = {
        "GET /stats HTTP/1.1\r\nHost: x\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "POST /stats HTTP/1.1\r\nContent-Length: 100000\r\n\r\nabc",
        "GET /stats HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\nab",
        "\001\020GET /stats HTTP/1.1\r\nHost: x\r\n\r\n",
        "\001\003GET /healthz HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n",
        "\001\017POST /stats HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcdeHEAD /nope HTTP/1.1\r\n\r\n",
        "\001\001GET /stats HTTP/1.1\r\nHost: x\r\n",
    };
    for (size_t i = 0; i < sizeof(stall) / sizeof(stall[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s-%zu", stall[i][0] == 1 ? "trickle" : "stall-open", i);
        put("statsd", name, 0xff, stall[i], strlen(stall[i]));
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds DIR\n");
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s/.tmp-seed", root);
    gen_wire();
    gen_ckpt(tmp);
    gen_replay(tmp);
    gen_dataset(tmp);
    gen_config();
    gen_http();
    if (failures)
        fprintf(stderr, "gen_seeds: %d seeds failed\n", failures);
    return failures ? 1 : 0;
}
