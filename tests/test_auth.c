/*
 * test_auth.c — CURVE transport security: key files round trip and bad files are refused with
 * a reason; the ZAP handler admits an allow-listed key and refuses an unknown key, a wrong
 * server key and a plain client (in process); then a real learner with auth = curve on
 * 127.0.0.1: an allowed actor trains and finishes, while an actor with an unknown key, a
 * plain actor and raw clients get no data into the replay and no weights, counted in /stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "common/auth.h"
#include "common/config.h"
#include "deploy/rldt/statsc.h"
#include "common/util.h"
#include "proto/wire.h"
#include "tests/harness.h"
#include "tests/spawn.h"

static char dir[] = "/tmp/rldt-auth-XXXXXX";
static char bin[512];

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text)
{
    char p[600];
    path_of(p, sizeof(p), name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

// ---- key files ---------------------------------------------------------------------------

static void test_keyfile_round_trip(void)
{
    struct auth_keypair kp, back;
    T_EQ_INT(auth_keypair_new(&kp), 0);
    T_CHECK(auth_key_valid(kp.public_key) && auth_key_valid(kp.secret_key));
    char err[512] = "", p[600], pub[AUTH_KEY_LEN + 1];
    T_EQ_INT(auth_keypair_save(&kp, dir, "k1", false, err, sizeof(err)), 0);
    path_of(p, sizeof(p), "k1.key");
    struct stat st;
    T_CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    T_EQ_INT(auth_keypair_read(p, &back, err, sizeof(err)), 0);
    T_EQ_STR(back.public_key, kp.public_key);
    T_EQ_STR(back.secret_key, kp.secret_key);
    // the public key from NAME.pub, and from NAME.key's public-key line
    T_EQ_INT(auth_public_read(p, pub, err, sizeof(err)), 0);
    T_EQ_STR(pub, kp.public_key);
    path_of(p, sizeof(p), "k1.pub");
    T_CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644);
    T_EQ_INT(auth_public_read(p, pub, err, sizeof(err)), 0);
    T_EQ_STR(pub, kp.public_key);
    // a .pub file is an allow list of one
    uint8_t(*keys)[32] = NULL, bin32[32];
    size_t n = 0;
    T_EQ_INT(auth_allow_read(p, &keys, NULL, &n, err, sizeof(err)), 0);
    T_EQ_INT(n, 1);
    T_CHECK(zmq_z85_decode(bin32, kp.public_key) && keys && !memcmp(keys[0], bin32, 32));
    free(keys);
    // existing files are kept unless forced; a bad name is refused
    struct auth_keypair other;
    T_EQ_INT(auth_keypair_new(&other), 0);
    T_EQ_INT(auth_keypair_save(&other, dir, "k1", false, err, sizeof(err)), -EEXIST);
    T_CHECK(strstr(err, "k1.key exists") != NULL);
    T_EQ_INT(auth_keypair_save(&other, dir, "k1", true, err, sizeof(err)), 0);
    path_of(p, sizeof(p), "k1.key");
    T_EQ_INT(auth_keypair_read(p, &back, err, sizeof(err)), 0);
    T_EQ_STR(back.public_key, other.public_key);
    T_EQ_INT(auth_keypair_save(&other, dir, "a/b", false, err, sizeof(err)), -EINVAL);
    T_EQ_INT(auth_keypair_save(&other, dir, "", false, err, sizeof(err)), -EINVAL);
    // a new directory is created private
    char sub[600];
    path_of(sub, sizeof(sub), "new/keys");
    T_EQ_INT(auth_keypair_save(&other, sub, "x", false, err, sizeof(err)), 0);
    T_CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
}

static void test_allow_list_format(void)
{
    struct auth_keypair a, b;
    T_EQ_INT(auth_keypair_new(&a), 0);
    T_EQ_INT(auth_keypair_new(&b), 0);
    char text[600], p[600], err[512];
    snprintf(text, sizeof(text),
             "# allowed actors\n\n   %s\t# actor-1\r\n# actor-2:\npublic-key = %s\n   \n",
             a.public_key, b.public_key);
    write_text("allow-ok.txt", text);
    path_of(p, sizeof(p), "allow-ok.txt");
    uint8_t(*keys)[32] = NULL, bin32[32];
    size_t n = 0;
    T_EQ_INT(auth_allow_read(p, &keys, NULL, &n, err, sizeof(err)), 0);
    T_EQ_INT(n, 2);
    T_CHECK(keys && zmq_z85_decode(bin32, b.public_key) && !memcmp(keys[1], bin32, 32));
    free(keys);
}

// read name with every reader; each must fail with rc and an error naming the file (and line)
static void expect_bad(const char *name, int rc_pair, int rc_allow, const char *needle)
{
    char p[600], err[512] = "", pub[AUTH_KEY_LEN + 1] = "";
    path_of(p, sizeof(p), name);
    struct auth_keypair kp;
    memset(&kp, 'x', sizeof(kp));
    int rc = auth_keypair_read(p, &kp, err, sizeof(err));
    T_CHECK_MSG(rc == rc_pair, "%s: keypair rc %d, want %d (%s)", name, rc, rc_pair, err);
    T_CHECK_MSG(strstr(err, name) && strstr(err, needle), "%s: '%s' lacks '%s'", name, err, needle);
    T_CHECK(kp.public_key[0] == 'x'); /* untouched on failure */
    uint8_t(*keys)[32] = NULL;
    size_t n = 0;
    err[0] = 0;
    rc = auth_allow_read(p, &keys, NULL, &n, err, sizeof(err));
    T_CHECK_MSG(rc == rc_allow, "%s: allow rc %d, want %d (%s)", name, rc, rc_allow, err);
    T_CHECK(keys == NULL && strstr(err, name));
    if (rc_allow == -EINVAL && strcmp(name, "mismatch.key")) /* that one's public line is fine */
        T_CHECK(auth_public_read(p, pub, err, sizeof(err)) < 0 && pub[0] == 0);
}

static void test_allow_rules(void)
{
    struct auth_keypair a, b, c;
    T_EQ_INT(auth_keypair_new(&a), 0);
    T_EQ_INT(auth_keypair_new(&b), 0);
    T_EQ_INT(auth_keypair_new(&c), 0);
    char text[900], p[600], err[512], why[200];
    snprintf(text, sizeof(text),
             "%s names=worker-*,w[0-9] # the fleet\n%s\trole=evaluator\n"
             "%s role=actor names=solo\n",
             a.public_key, b.public_key, c.public_key);
    write_text("allow-rules.txt", text);
    path_of(p, sizeof(p), "allow-rules.txt");
    uint8_t(*keys)[32] = NULL;
    struct auth_rule *rules = NULL;
    size_t n = 0;
    T_EQ_INT(auth_allow_read(p, &keys, &rules, &n, err, sizeof(err)), 0);
    T_EQ_INT(n, 3);
    T_CHECK(rules && !strcmp(rules[0].names, "worker-*,w[0-9]") && rules[0].role == AUTH_ROLE_ANY);
    T_CHECK(rules && !rules[1].names[0] && rules[1].role == AUTH_ROLE_EVALUATOR);
    T_CHECK(rules && !strcmp(rules[2].names, "solo") && rules[2].role == AUTH_ROLE_ACTOR);
    if (rules) {
        T_CHECK(auth_rule_permits(&rules[0], "worker-12", false, why, sizeof(why)));
        T_CHECK(auth_rule_permits(&rules[0], "w7", true, why, sizeof(why)));
        T_CHECK(!auth_rule_permits(&rules[0], "w77", false, why, sizeof(why)));
        T_CHECK(strstr(why, "may not register as 'w77'") != NULL);
        T_CHECK(!auth_rule_permits(&rules[1], "anything", false, why, sizeof(why)));
        T_CHECK(auth_rule_permits(&rules[1], "anything", true, why, sizeof(why)));
        T_CHECK(!auth_rule_permits(&rules[2], "solo", true, why, sizeof(why)));
        T_CHECK(auth_rule_permits(&rules[2], "solo", false, why, sizeof(why)));
    }
    free(keys);
    free(rules);
    // an unknown option or role, an empty names=: refused with the line
    const char *bad[] = {"role=admin", "names=", "limit=3", "names=x role=actor extra"};
    for (size_t i = 0; i < RL_ARRAY_LEN(bad); i++) {
        snprintf(text, sizeof(text), "%s\n%s %s\n", a.public_key, b.public_key, bad[i]);
        write_text("allow-bad.txt", text);
        path_of(p, sizeof(p), "allow-bad.txt");
        keys = NULL;
        err[0] = 0;
        T_EQ_INT(auth_allow_read(p, &keys, &rules, &n, err, sizeof(err)), -EINVAL);
        T_CHECK_MSG(keys == NULL && strstr(err, "allow-bad.txt:2: unexpected text"), "%s", err);
    }
}

static void test_bad_files(void)
{
    struct auth_keypair a, b;
    T_EQ_INT(auth_keypair_new(&a), 0);
    T_EQ_INT(auth_keypair_new(&b), 0);
    char text[600];
    expect_bad("missing.key", -ENOENT, -ENOENT, "No such file");
    write_text("empty.key", "# nothing here\n\n");
    expect_bad("empty.key", -EINVAL, -ENODATA, "no secret-key");
    write_text("short.key", "secret-key = abcdef\n");
    expect_bad("short.key", -EINVAL, -EINVAL, ":1: malformed key: 6 characters");
    snprintf(text, sizeof(text), "# k\npublic-key = %.39s\"\n", a.public_key);
    write_text("badchar.pub", text);
    expect_bad("badchar.pub", -EINVAL, -EINVAL, ":2: malformed key: characters outside");
    snprintf(text, sizeof(text), "%s extra\n", a.public_key);
    write_text("trailing.pub", text);
    expect_bad("trailing.pub", -EINVAL, -EINVAL, ":1: unexpected text");
    snprintf(text, sizeof(text), "public-key %s\n", a.public_key);
    write_text("noeq.key", text);
    expect_bad("noeq.key", -EINVAL, -EINVAL, ":1: expected `public-key = KEY`");
    snprintf(text, sizeof(text), "public-key = %s\nsecret-key = %s\n", a.public_key, b.secret_key);
    write_text("mismatch.key", text);
    expect_bad("mismatch.key", -EINVAL, -EINVAL, "does not match");
    // a secret key never belongs in an allow list
    char p[600], err[512];
    snprintf(text, sizeof(text), "%s\nsecret-key = %s\n", a.public_key, a.secret_key);
    write_text("leak.txt", text);
    path_of(p, sizeof(p), "leak.txt");
    uint8_t(*keys)[32] = NULL;
    size_t n;
    T_EQ_INT(auth_allow_read(p, &keys, NULL, &n, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "leak.txt:2: a secret key in an allow list") != NULL);
    // a directory, and binary junk
    T_CHECK(auth_keypair_read(dir, &a, err, sizeof(err)) < 0 && strstr(err, dir));
    write_text("junk.key", "\x01\x02\xff\xfe garbage \x7f\n");
    expect_bad("junk.key", -EINVAL, -EINVAL, ":1:");
    T_CHECK(!auth_key_valid("") && !auth_key_valid("abc") && auth_key_valid(a.public_key));
}

static void test_config_keys(void)
{
    struct rl_config c;
    config_default(&c);
    T_EQ_STR(c.auth, "none");
    char err[512] = "";
    T_CHECK(config_set(&c, "auth", "tls", err, sizeof(err)) < 0);
    struct auth_keys k;
    memset(&k, 1, sizeof(k));
    T_EQ_INT(auth_server_keys(&k, &c, err, sizeof(err)), 0);
    T_CHECK(!k.curve);
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_PULL);
    T_EQ_INT(auth_server_socket(s, &k), 0); /* no-op */
    int mech = -1;
    size_t len = sizeof(mech);
    zmq_getsockopt(s, ZMQ_MECHANISM, &mech, &len);
    T_EQ_INT(mech, ZMQ_NULL);
    // auth = curve without keys: a one-line reason naming the missing key
    T_EQ_INT(config_set(&c, "auth", "curve", err, sizeof(err)), 0);
    T_EQ_INT(auth_server_keys(&k, &c, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "curve_server_key") != NULL && !strchr(err, '\n'));
    T_EQ_INT(auth_client_keys(&k, &c, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "curve_server_key") != NULL);
    char p[600];
    path_of(p, sizeof(p), "k1.key");
    T_EQ_INT(config_set(&c, "curve_server_key", p, err, sizeof(err)), 0);
    T_EQ_INT(auth_server_keys(&k, &c, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "curve_allow") != NULL);
    T_EQ_INT(auth_client_keys(&k, &c, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "curve_client_key") != NULL);
    T_EQ_INT(config_set(&c, "curve_allow", p, err, sizeof(err)), 0);
    T_EQ_INT(auth_server_keys(&k, &c, err, sizeof(err)), 0);
    T_CHECK(k.curve && auth_key_valid(k.server_key));
    T_EQ_INT(auth_server_socket(s, &k), 0);
    len = sizeof(mech);
    zmq_getsockopt(s, ZMQ_MECHANISM, &mech, &len);
    T_EQ_INT(mech, ZMQ_CURVE);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

// ---- the ZAP handler in one process --------------------------------------------------------

static atomic_int fails;

static void count_fail(void *user, const char *reason)
{
    (void)user;
    if (!strcmp(reason, "auth_failed"))
        atomic_fetch_add(&fails, 1);
}

// a PUSH client on ctx sending text to ep; keys NULL = plain
static void *push_client(void *ctx, const char *ep, const struct auth_keys *k, const char *text)
{
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (k)
        T_EQ_INT(auth_client_socket(s, k), 0);
    T_EQ_INT(zmq_connect(s, ep), 0);
    T_CHECK(zmq_send(s, text, strlen(text), ZMQ_DONTWAIT) >= 0);
    return s;
}

// receive for secs; count messages equal to text, return how many others arrived in *other
static int drain(void *pull, double secs, const char *text, int *other)
{
    int same = 0;
    double until = rl_now() + secs;
    char buf[64];
    while (rl_now() < until) {
        int n = zmq_recv(pull, buf, sizeof(buf) - 1, ZMQ_DONTWAIT);
        if (n < 0) {
            rl_sleep(0.01);
            continue;
        }
        buf[RL_MIN(n, 63)] = 0;
        if (!strcmp(buf, text))
            same++;
        else
            (*other)++;
    }
    return same;
}

static void test_zap_in_process(void)
{
    struct auth_keypair srv, good, bad;
    T_EQ_INT(auth_keypair_new(&srv) | auth_keypair_new(&good) | auth_keypair_new(&bad), 0);
    char text[200], allow[600], err[512] = "";
    snprintf(text, sizeof(text), "# one allowed key\n%s\n", good.public_key);
    write_text("allow-zap.txt", text);
    path_of(allow, sizeof(allow), "allow-zap.txt");
    void *sctx = zmq_ctx_new(), *cctx = zmq_ctx_new();
    struct auth_zap *z = auth_zap_new(sctx, allow, count_fail, NULL, err, sizeof(err));
    T_CHECK_MSG(z != NULL, "%s", err);
    if (!z)
        return;
    // one ZAP handler per context: a second is refused with a reason
    T_CHECK(auth_zap_new(sctx, allow, NULL, NULL, err, sizeof(err)) == NULL &&
            strstr(err, "zeromq.zap.01"));
    struct auth_keys sk = {.curve = true, .own = srv};
    void *pull = zmq_socket(sctx, ZMQ_PULL);
    T_EQ_INT(auth_server_socket(pull, &sk), 0);
    T_EQ_INT(auth_zap_watch(z, pull), 0);
    T_EQ_INT(zmq_bind(pull, "tcp://127.0.0.1:*"), 0);
    char ep[128];
    size_t eplen = sizeof(ep);
    zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &eplen);
    // refused: unknown client key, wrong server key, plain ZeroMQ
    struct auth_keys unknown = {.curve = true, .own = bad};
    memcpy(unknown.server_key, srv.public_key, sizeof(unknown.server_key));
    struct auth_keys wrong_srv = {.curve = true, .own = good};
    memcpy(wrong_srv.server_key, bad.public_key, sizeof(wrong_srv.server_key));
    void *c1 = push_client(cctx, ep, &unknown, "bad");
    void *c2 = push_client(cctx, ep, &wrong_srv, "bad");
    void *c3 = push_client(cctx, ep, NULL, "bad");
    int other = 0;
    T_EQ_INT(drain(pull, 1.0, "bad", &other), 0);
    struct auth_counts ct;
    auth_zap_counts(z, &ct);
    T_CHECK_MSG(ct.denied >= 1 && ct.allowed == 0, "denied %llu allowed %llu",
                (unsigned long long)ct.denied, (unsigned long long)ct.allowed);
    T_CHECK_MSG(ct.failed >= 3, "failed handshakes %llu", (unsigned long long)ct.failed);
    T_EQ_INT(atomic_load(&fails), (int)ct.failed);
    // admitted: the allow-listed key
    struct auth_keys ok = {.curve = true, .own = good};
    memcpy(ok.server_key, srv.public_key, sizeof(ok.server_key));
    void *c4 = push_client(cctx, ep, &ok, "good");
    T_EQ_INT(drain(pull, 1.0, "good", &other), 1);
    T_EQ_INT(other, 0); /* and still nothing from the refused ones */
    auth_zap_counts(z, &ct);
    T_CHECK(ct.allowed >= 1);
    zmq_close(c1), zmq_close(c2), zmq_close(c3), zmq_close(c4);
    zmq_ctx_term(cctx);
    zmq_close(pull);
    auth_zap_destroy(&z);
    T_CHECK(z == NULL);
    auth_zap_destroy(&z); /* NULL is a no-op */
    zmq_ctx_term(sctx);
}

// ---- a real learner with auth = curve ------------------------------------------------------

static int base;
static char stats_port[16];
static pid_t learner, good_actor, bad_actor, plain_actor;

static pid_t start(const char *prog, const char *log, const char **extra, int nextra)
{
    char path[600], ports[4][64], rd[300], logp[400], *argv[SPAWN_MAX_ARGS];
    snprintf(path, sizeof(path), "%s/%s", bin, prog);
    snprintf(rd, sizeof(rd), "--run-dir=%s/run", dir);
    snprintf(logp, sizeof(logp), "%s/%s", dir, log);
    const char *more[40] = {"--max-env-steps=12000"};
    int n = 1;
    for (int i = 0; i < nextra && n < 40; i++)
        more[n++] = extra[i];
    spawn_tiny_sac(argv, path, ports, base, rd, more, n);
    return spawn_logged(path, argv, logp);
}

static double wait_stat(const char *key, double value, double secs)
{
    return spawn_wait_stat(stats_port, key, value, secs);
}

static bool log_has(const char *log, const char *needle)
{
    char path[400], line[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

// client keys for raw sockets: the learner's public key and a key pair file of ours
static struct auth_keys raw_keys(const char *pair_file)
{
    struct auth_keys k = {.curve = true};
    char p[600], err[512];
    path_of(p, sizeof(p), "learner.pub");
    T_EQ_INT(auth_public_read(p, k.server_key, err, sizeof(err)), 0);
    path_of(p, sizeof(p), pair_file);
    T_EQ_INT(auth_keypair_read(p, &k.own, err, sizeof(err)), 0);
    return k;
}

static void *raw_socket(void *ctx, int type, int port, const struct auth_keys *k)
{
    void *s = zmq_socket(ctx, type);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (type == ZMQ_SUB)
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    if (k)
        T_EQ_INT(auth_client_socket(s, k), 0);
    char ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", port);
    T_EQ_INT(zmq_connect(s, ep), 0);
    return s;
}

// raw clients with an unknown key or none: a Hello, segments; none of it gets through
static void test_refused_clients(void)
{
    char a1[700], a2[700];
    snprintf(a1, sizeof(a1), "--curve-server-key=%s/learner.pub", dir);
    snprintf(a2, sizeof(a2), "--curve-client-key=%s/bad.key", dir);
    const char *bad_args[] = {"--auth=curve", a1, a2, "--actor-name=bad"};
    const char *plain_args[] = {"--actor-name=plain"};
    bad_actor = start("rldt-actor", "bad.log", bad_args, 4);
    plain_actor = start("rldt-actor", "plain.log", plain_args, 1);
    T_CHECK(bad_actor > 0 && plain_actor > 0);
    void *ctx = zmq_ctx_new();
    struct auth_keys bad = raw_keys("bad.key");
    void *ctl = raw_socket(ctx, ZMQ_DEALER, base, &bad);
    void *push_bad = raw_socket(ctx, ZMQ_PUSH, base + 1, &bad);
    void *push_plain = raw_socket(ctx, ZMQ_PUSH, base + 1, NULL);
    // a Hello as a real actor sends it, and a well-formed segment
    static uint8_t buf[1 << 16];
    size_t len;
    struct wire_msg m = spawn_hello("intruder", false);
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    zmq_send(ctl, buf, len, ZMQ_DONTWAIT);
    struct spawn_seg st;
    m = spawn_tiny_segment(&st);
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    zmq_send(push_bad, buf, len, ZMQ_DONTWAIT);
    zmq_send(push_plain, buf, len, ZMQ_DONTWAIT);
    // no Welcome comes back
    zmq_pollitem_t it = {ctl, 0, ZMQ_POLLIN, 0};
    T_EQ_INT(zmq_poll(&it, 1, 2000), 0);
    // every refused handshake is counted; nothing was decoded, registered or stored
    /* at least 3 raw sockets + the bad actor's 3 + the plain actor's 3 */
    json_t *d = spawn_wait_doc(stats_port, "rejected.auth_failed", 6, 5);
    double failed = spawn_num(d, "rejected.auth_failed");
    T_CHECK_MSG(failed >= 6, "auth_failed %g", failed);
    T_CHECK(d != NULL);
    if (d) {
        T_EQ_INT((int)spawn_num(d, "rejected_total"), (int)failed); /* nothing else reached it */
        T_EQ_INT((int)spawn_num(d, "env_steps"), 0);
        T_EQ_INT((int)spawn_num(d, "segments"), 0);
        T_EQ_INT((int)spawn_num(json_object_get(d, "replay"), "size"), 0);
        T_EQ_INT((int)json_array_size(json_object_get(d, "actors")), 0);
    }
    json_decref(d);
    zmq_close(ctl), zmq_close(push_bad), zmq_close(push_plain);
    zmq_ctx_term(ctx);
}

// one control round trip on s: send m, the reply decoded into *out (0), or -1
static int round_trip(void *s, struct wire_msg *m, struct wire_msg *out, struct wire_decoder *d)
{
    static uint8_t buf[1 << 19];
    size_t len;
    if (wire_pack(m, buf, sizeof(buf), &len) < 0 || zmq_send(s, buf, len, 0) < 0)
        return -1;
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 5000) <= 0)
        return -1;
    int n = zmq_recv(s, buf, sizeof(buf), 0);
    return n > 0 && wire_decode(d, buf, (size_t)n, out, NULL, 0) == 0 ? 0 : -1;
}

// with CURVE a session belongs to the key that registered it: another allowed key holding the
// secret still cannot use it
static void test_session_bound_to_key(void)
{
    void *ctx = zmq_ctx_new();
    struct auth_keys good = raw_keys("good.key"), other = raw_keys("other.key");
    void *mine = raw_socket(ctx, ZMQ_DEALER, base, &good);
    void *theirs = raw_socket(ctx, ZMQ_DEALER, base, &other);
    struct wire_decoder *d = wire_decoder_new(1 << 19);
    struct wire_msg m = spawn_hello("owner", false), w, ack;
    T_EQ_INT(round_trip(mine, &m, &w, d), 0);
    T_CHECK(w.type == WIRE_WELCOME && w.welcome.accepted);
    struct wire_msg hb = {.type = WIRE_HEARTBEAT};
    hb.heartbeat = (struct wire_heartbeat){.actor_id = w.welcome.actor_id,
                                           .run_epoch = w.welcome.run_epoch,
                                           .session = w.welcome.session};
    json_t *doc0 = spawn_stats(stats_port);
    double before =
        json_number_value(json_object_get(json_object_get(doc0, "rejected"), "bad_session"));
    json_decref(doc0);
    T_EQ_INT(round_trip(theirs, &hb, &ack, d), 0); /* the stolen secret, another key */
    T_CHECK(ack.type == WIRE_HEARTBEAT_ACK && ack.heartbeat_ack.register_again &&
            ack.heartbeat_ack.run_epoch == 0);
    T_EQ_INT(round_trip(mine, &hb, &ack, d), 0); /* the owner's key */
    T_CHECK(ack.type == WIRE_HEARTBEAT_ACK && !ack.heartbeat_ack.register_again &&
            ack.heartbeat_ack.run_epoch == w.welcome.run_epoch);
    double after = before, until = rl_now() + 5;
    while (rl_now() < until && after < before + 1) {
        json_t *doc = spawn_stats(stats_port);
        after = json_number_value(json_object_get(json_object_get(doc, "rejected"), "bad_session"));
        json_decref(doc);
        rl_sleep(0.1);
    }
    T_EQ_INT(after, before + 1);
    m = (struct wire_msg){.type = WIRE_BYE}; /* leave the table to the real actor */
    m.bye = (struct wire_bye){w.welcome.actor_id, w.welcome.run_epoch, "done", w.welcome.session};
    size_t len;
    static uint8_t b[4096];
    T_EQ_INT(wire_pack(&m, b, sizeof(b), &len), 0);
    zmq_send(mine, b, len, 0);
    rl_sleep(0.2);
    wire_decoder_destroy(&d);
    zmq_close(mine), zmq_close(theirs);
    zmq_ctx_term(ctx);
}

// Hello of name (an evaluator or not) over s: accepted?
static bool hello_as(void *s, struct wire_decoder *d, const char *name, bool evaluator,
                     struct wire_msg *w)
{
    struct wire_msg m = spawn_hello(name, evaluator);
    return round_trip(s, &m, w, d) == 0 && w->type == WIRE_WELCOME && w->welcome.accepted;
}

// an allow-list entry binds its key to names and a role: other Hellos from it are refused
static void test_key_identity(void)
{
    void *ctx = zmq_ctx_new();
    struct auth_keys other = raw_keys("other.key"), good = raw_keys("good.key");
    void *s = raw_socket(ctx, ZMQ_DEALER, base, &other),
         *g = raw_socket(ctx, ZMQ_DEALER, base, &good);
    struct wire_decoder *d = wire_decoder_new(1 << 19);
    struct wire_msg w;
    json_t *doc = spawn_stats(stats_port);
    double before = spawn_num(json_object_get(doc, "rejected"), "key_identity");
    json_decref(doc);
    T_CHECK(!hello_as(s, d, "collector-7", false, &w)); /* a name the entry does not list */
    T_CHECK_MSG(strstr(w.welcome.reason, "may not register as 'collector-7'"), "%s",
                w.welcome.reason);
    T_CHECK(w.welcome.run_epoch == 0 && w.welcome.actor_id == 0);
    T_CHECK(!hello_as(s, d, "thief-1", true, &w)); /* the evaluator: role=actor */
    T_CHECK(strstr(w.welcome.reason, "role=actor") != NULL);
    T_CHECK(hello_as(s, d, "thief-1", false, &w)); /* what the entry allows */
    struct wire_msg bye = {.type = WIRE_BYE}, ack;
    bye.bye = (struct wire_bye){w.welcome.actor_id, w.welcome.run_epoch, "done", w.welcome.session};
    T_CHECK(hello_as(g, d, "collector-7", true, &w)); /* an entry without options: anything */
    double after = before, until = rl_now() + 5;
    while (rl_now() < until && after < before + 2) {
        doc = spawn_stats(stats_port);
        after = spawn_num(json_object_get(doc, "rejected"), "key_identity");
        json_decref(doc);
        rl_sleep(0.1);
    }
    T_EQ_INT(after, before + 2);
    round_trip(s, &bye, &ack, d); /* no answer to a Bye: the time-out is fine */
    bye.bye = (struct wire_bye){w.welcome.actor_id, w.welcome.run_epoch, "done", w.welcome.session};
    round_trip(g, &bye, &ack, d);
    wire_decoder_destroy(&d);
    zmq_close(s), zmq_close(g);
    zmq_ctx_term(ctx);
}

// an allowed actor trains; raw subscribers: the allowed key gets weights, the others none
static void test_allowed_actor(void)
{
    void *ctx = zmq_ctx_new();
    struct auth_keys good = raw_keys("good.key"), bad = raw_keys("bad.key");
    void *sub_good = raw_socket(ctx, ZMQ_SUB, base + 2, &good);
    void *sub_bad = raw_socket(ctx, ZMQ_SUB, base + 2, &bad);
    void *sub_plain = raw_socket(ctx, ZMQ_SUB, base + 2, NULL);
    char a1[700], a2[700];
    snprintf(a1, sizeof(a1), "--curve-server-key=%s/learner.pub", dir);
    snprintf(a2, sizeof(a2), "--curve-client-key=%s/good.key", dir);
    const char *args[] = {"--auth=curve", a1, a2, "--actor-name=good"};
    good_actor = start("rldt-actor", "good.log", args, 4);
    T_CHECK(good_actor > 0);
    T_CHECK_MSG(wait_stat("env_steps", 1000, 30) >= 1000, "no env steps from the allowed actor");
    json_t *d = spawn_stats(stats_port);
    T_CHECK(d != NULL);
    json_t *acts = d ? json_object_get(d, "actors") : NULL;
    T_EQ_INT((int)json_array_size(acts), 1); /* only the allowed actor registered */
    if (json_array_size(acts) == 1)
        T_EQ_STR(json_string_value(json_object_get(json_array_get(acts, 0), "name")), "good");
    json_decref(d);
    int got[3] = {0, 0, 0};
    void *subs[3] = {sub_good, sub_bad, sub_plain};
    double until = rl_now() + 20, stop_at = 0;
    static uint8_t buf[1 << 20];
    while (rl_now() < until && (!stop_at || rl_now() < stop_at)) {
        zmq_pollitem_t it[3];
        for (int i = 0; i < 3; i++)
            it[i] = (zmq_pollitem_t){subs[i], 0, ZMQ_POLLIN, 0};
        if (zmq_poll(it, 3, 100) <= 0)
            continue;
        for (int i = 0; i < 3; i++)
            if ((it[i].revents & ZMQ_POLLIN) && zmq_recv(subs[i], buf, sizeof(buf), 0) >= 0)
                got[i]++;
        if (got[0] >= 3 && !stop_at)
            stop_at = rl_now() + 1.0; /* a second more for anything leaking to the others */
    }
    T_CHECK_MSG(got[0] >= 3, "the allowed subscriber got %d params messages", got[0]);
    T_EQ_INT(got[1], 0);
    T_EQ_INT(got[2], 0);
    T_CHECK(!log_has("bad.log", "registered as actor"));
    T_CHECK(!log_has("plain.log", "registered as actor"));
    zmq_close(sub_good), zmq_close(sub_bad), zmq_close(sub_plain);
    zmq_ctx_term(ctx);
}

static void test_run_finishes(void)
{
    int st = spawn_wait(learner, 60);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "learner exit %d", st);
    if (st >= 0)
        learner = 0;
    st = spawn_wait(good_actor, 15);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "allowed actor exit %d", st);
    if (st >= 0)
        good_actor = 0;
    T_CHECK(log_has("learner.log", "checkpoint ") && log_has("learner.log", "reached max_env"));
    // the refused actors never got in; they stop on a signal like any actor
    pid_t refused[] = {bad_actor, plain_actor};
    for (int i = 0; i < 2; i++) {
        kill(refused[i], SIGTERM);
        st = spawn_wait(refused[i], 10);
        T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "refused actor exit %d", st);
    }
    bad_actor = plain_actor = 0;
}

// bad key files stop the processes at start-up with one line and exit code 1
static void test_startup_errors(void)
{
    char a1[700], a2[700];
    snprintf(a1, sizeof(a1), "--curve-server-key=%s/short.key", dir);
    snprintf(a2, sizeof(a2), "--curve-allow=%s/allow.txt", dir);
    const char *l1[] = {"--auth=curve", a1, a2, "--stats="};
    pid_t p = start("rldt-learner", "err1.log", l1, 4);
    int st = spawn_wait(p, 10);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "learner exit %d", st);
    T_CHECK(log_has("err1.log", "short.key:1: malformed key"));
    const char *l2[] = {"--auth=curve", "--stats="};
    p = start("rldt-learner", "err2.log", l2, 2);
    st = spawn_wait(p, 10);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "learner exit %d", st);
    T_CHECK(log_has("err2.log", "auth = curve needs curve_server_key"));
    snprintf(a1, sizeof(a1), "--curve-server-key=%s/learner.pub", dir);
    snprintf(a2, sizeof(a2), "--curve-client-key=%s/missing.key", dir);
    const char *a[] = {"--auth=curve", a1, a2};
    p = start("rldt-actor", "err3.log", a, 3);
    st = spawn_wait(p, 10);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "actor exit %d", st);
    T_CHECK(log_has("err3.log", "missing.key: No such file or directory"));
    const char *bad_enum[] = {"--auth=tls"};
    p = start("rldt-actor", "err4.log", bad_enum, 1);
    st = spawn_wait(p, 10);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2, "actor exit %d", st);
}

static void test_learner(void)
{
    char err[512];
    struct auth_keypair kp;
    const char *names[] = {"learner", "good", "bad", "other"};
    for (int i = 0; i < 4; i++) {
        T_EQ_INT(auth_keypair_new(&kp), 0);
        T_EQ_INT(auth_keypair_save(&kp, dir, names[i], false, err, sizeof(err)), 0);
    }
    // good: any name; other: bound to names owner and thief-*, actors only
    char p[600], cmd[1400], other[AUTH_KEY_LEN + 1];
    path_of(p, sizeof(p), "other.pub");
    T_EQ_INT(auth_public_read(p, other, err, sizeof(err)), 0);
    path_of(p, sizeof(p), "allow.txt");
    snprintf(cmd, sizeof(cmd),
             "cat %s/good.pub > %s && echo '%s names=owner,thief-* role=actor' >> %s", dir, p,
             other, p);
    T_EQ_INT(system(cmd), 0);
    base = spawn_free_ports(4);
    snprintf(stats_port, sizeof(stats_port), "%d", base + 3);
    char a1[700], a2[700];
    snprintf(a1, sizeof(a1), "--curve-server-key=%s/learner.key", dir);
    snprintf(a2, sizeof(a2), "--curve-allow=%s", p);
    const char *args[] = {"--auth=curve", a1, a2};
    learner = start("rldt-learner", "learner.log", args, 3);
    T_CHECK(learner > 0);
    T_CHECK_MSG(wait_stat("uptime_s", 0, 15) >= 0, "learner did not come up");
}

static void cleanup(void)
{
    pid_t all[] = {learner, good_actor, bad_actor, plain_actor};
    spawn_kill_all(all, RL_ARRAY_LEN(all));
}

int main(void)
{
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return 1;
    T_RUN(test_keyfile_round_trip);
    T_RUN(test_allow_list_format);
    T_RUN(test_allow_rules);
    T_RUN(test_bad_files);
    T_RUN(test_config_keys);
    T_RUN(test_zap_in_process);
    T_RUN(test_learner);
    T_RUN(test_refused_clients);
    T_RUN(test_session_bound_to_key);
    T_RUN(test_key_identity);
    T_RUN(test_allowed_actor);
    T_RUN(test_run_finishes);
    T_RUN(test_startup_errors);
    cleanup();
    if (t_failed) {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "tail -n 12 %s/*.log", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "no logs\n");
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return T_DONE("auth");
}
