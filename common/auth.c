/*
 * auth.c — CURVE key files, socket options and the ZAP handler thread (see auth.h).
 */
#include "common/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/afile.h"
#include "common/log.h"
#include "common/util.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* draft option in 4.3 headers; the library has it */
#endif

#define WATCH_MAX 8
#define ZAP_POLL_MS 100 /* the handler waits in slices this long (re-checks its stop flag) */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define HANDSHAKE_EVENTS                                                                           \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                  \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

static const char z85_chars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                ".-:+=^!/*?&<>()[]{}@%$#";

int auth_keypair_new(struct auth_keypair *kp)
{
    struct auth_keypair k;
    if (zmq_curve_keypair(k.public_key, k.secret_key) != 0)
        return -ENOTSUP;
    *kp = k;
    return 0;
}

bool auth_key_valid(const char *s)
{
    if (strlen(s) != AUTH_KEY_LEN || strspn(s, z85_chars) != AUTH_KEY_LEN)
        return false;
    uint8_t bin[32];
    return zmq_z85_decode(bin, s) != NULL;
}

// ---- reading -----------------------------------------------------------------------------

enum line_kind { LINE_NONE, LINE_PUBLIC, LINE_SECRET };

// the first whitespace-delimited token of p, its length; *rest = what follows it
static size_t token(const char *p, const char **rest)
{
    size_t n = strcspn(p, " \t");
    const char *r = p + n;
    r += strspn(r, " \t");
    *rest = r;
    return n;
}

// the options after an allow-list key (`names=P,... role=R`) into *r; 0 or -EINVAL + why
static int parse_opts(const char *p, struct auth_rule *r, char *why, size_t whylen)
{
    *r = (struct auth_rule){{0}, AUTH_ROLE_ANY};
    while (*p && *p != '#') {
        const char *rest;
        size_t n = token(p, &rest);
        if (n > 6 && !strncmp(p, "names=", 6) && n - 6 < AUTH_NAMES_MAX) {
            memcpy(r->names, p + 6, n - 6);
            r->names[n - 6] = 0;
        } else if (n == 10 && !strncmp(p, "role=actor", 10)) {
            r->role = AUTH_ROLE_ACTOR;
        } else if (n == 14 && !strncmp(p, "role=evaluator", 14)) {
            r->role = AUTH_ROLE_EVALUATOR;
        } else if (n == 8 && !strncmp(p, "role=any", 8)) {
            r->role = AUTH_ROLE_ANY;
        } else {
            snprintf(why, whylen,
                     "unexpected text after the key: unknown option '%.*s' (options: "
                     "names=PATTERN[,...], "
                     "role=actor|evaluator|any)",
                     (int)RL_MIN(n, 40), p);
            return -EINVAL;
        }
        p = rest;
    }
    return 0;
}

bool auth_rule_permits(const struct auth_rule *r, const char *name, bool evaluator, char *why,
                       size_t whylen)
{
    if (r->role == AUTH_ROLE_ACTOR && evaluator) {
        snprintf(why, whylen, "this key may not register the evaluator (role=actor)");
        return false;
    }
    if (r->role == AUTH_ROLE_EVALUATOR && !evaluator) {
        snprintf(why, whylen, "this key may register only the evaluator (role=evaluator)");
        return false;
    }
    if (!r->names[0])
        return true;
    char pat[AUTH_NAMES_MAX];
    for (const char *p = r->names; *p;) {
        size_t n = strcspn(p, ",");
        snprintf(pat, sizeof(pat), "%.*s", (int)n, p);
        if (n && fnmatch(pat, name, 0) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    snprintf(why, whylen, "this key may not register as '%.64s' (names=%.120s)", name, r->names);
    return false;
}

// one line of a key file: a key (bare, or `public-key = K` / `secret-key = K`), a comment or
// blank; key receives the Z85 text. An allow list's options go to *rule (NULL: none
// allowed). 0 or -EINVAL with the reason in why
static int parse_line(char *line, enum line_kind *kind, char *key, struct auth_rule *rule,
                      char *why, size_t whylen)
{
    line += strspn(line, " \t");
    size_t n = strlen(line);
    while (n && strchr(" \t\r\n", line[n - 1]))
        line[--n] = 0;
    *kind = LINE_NONE;
    // '#' is a Z85 character, but never the first of a key: 85^4 * 84 > 2^32
    if (!n || line[0] == '#')
        return 0;
    const char *rest;
    size_t tlen = token(line, &rest);
    const char *val = line;
    *kind = LINE_PUBLIC;
    if (!strncmp(line, "public-key", 10) || !strncmp(line, "secret-key", 10)) {
        *kind = line[0] == 's' ? LINE_SECRET : LINE_PUBLIC;
        val = line + 10 + strspn(line + 10, " \t");
        if (*val != '=') {
            snprintf(why, whylen, "expected `%.10s = KEY`", line);
            return -EINVAL;
        }
        val += 1 + strspn(val + 1, " \t");
        tlen = token(val, &rest);
    }
    if (*rest && *rest != '#' && (!rule || *kind != LINE_PUBLIC)) {
        snprintf(why, whylen, "unexpected text after the key (one key per line)");
        return -EINVAL;
    }
    if (tlen != AUTH_KEY_LEN) {
        snprintf(why, whylen, "malformed key: %zu characters, a CURVE key is %d Z85 characters",
                 tlen, AUTH_KEY_LEN);
        return -EINVAL;
    }
    memcpy(key, val, AUTH_KEY_LEN);
    key[AUTH_KEY_LEN] = 0;
    if (!auth_key_valid(key)) {
        snprintf(why, whylen, "malformed key: characters outside the Z85 alphabet");
        return -EINVAL;
    }
    return rule ? parse_opts(rest, rule, why, whylen) : 0;
}

// what a scan of a key file found
struct scan {
    char public_key[AUTH_KEY_LEN + 1];
    char secret_key[AUTH_KEY_LEN + 1];
    int npublic, nsecret, secret_line;
    uint8_t (*keys)[32];     /* every public key, binary (allow lists) */
    struct auth_rule *rules; /* their options (allow lists: scan_file's allow) */
    size_t nkeys, cap;
};

static int scan_add(struct scan *s, const char *key, const struct auth_rule *rule)
{
    if (s->nkeys == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        void *p = realloc(s->keys, cap * sizeof(*s->keys));
        if (!p)
            return -ENOMEM;
        s->keys = p;
        p = realloc(s->rules, cap * sizeof(*s->rules));
        if (!p)
            return -ENOMEM;
        s->rules = p;
        s->cap = cap;
    }
    s->rules[s->nkeys] = *rule;
    zmq_z85_decode(s->keys[s->nkeys++], key);
    return 0;
}

// scan a key file or (allow: options after keys) an allow list
static int scan_file(const char *path, bool allow, struct scan *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (!path || !path[0]) {
        snprintf(err, errlen, "no key file given");
        return -EINVAL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
        return -e;
    }
    char *line = NULL, key[AUTH_KEY_LEN + 1], why[160];
    size_t cap = 0;
    int rc = 0, lineno = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        enum line_kind kind;
        struct auth_rule rule = {{0}, AUTH_ROLE_ANY};
        lineno++;
        rc = parse_line(line, &kind, key, allow ? &rule : NULL, why, sizeof(why));
        if (rc < 0)
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
        else if (kind == LINE_SECRET && s->nsecret++ == 0)
            memcpy(s->secret_key, key, sizeof(key)), s->secret_line = lineno;
        else if (kind == LINE_PUBLIC && s->npublic++ == 0)
            memcpy(s->public_key, key, sizeof(key));
        if (rc == 0 && kind == LINE_PUBLIC && scan_add(s, key, &rule) < 0) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = errno ? -errno : -EIO;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
    }
    free(line);
    fclose(f);
    if (rc < 0) {
        free(s->keys);
        free(s->rules);
        s->keys = NULL;
        s->rules = NULL;
    }
    explicit_bzero(key, sizeof(key));
    return rc;
}

static void scan_fini(struct scan *s)
{
    free(s->keys);
    free(s->rules);
    explicit_bzero(s, sizeof(*s));
}

int auth_keypair_read(const char *path, struct auth_keypair *kp, char *err, size_t errlen)
{
    struct scan s;
    int rc = scan_file(path, false, &s, err, errlen);
    if (rc < 0)
        return rc;
    struct auth_keypair k;
    rc = -EINVAL;
    if (s.nsecret != 1) {
        snprintf(err, errlen, "%s: %s", path,
                 s.nsecret ? "more than one secret-key line"
                           : "no secret-key line (a NAME.key file from `rldt keygen` is needed)");
        goto out;
    }
    memcpy(k.secret_key, s.secret_key, sizeof(k.secret_key));
    if (zmq_curve_public(k.public_key, k.secret_key) != 0) {
        snprintf(err, errlen, "%s:%d: the secret key is not a valid CURVE key", path,
                 s.secret_line);
        goto out;
    }
    if (s.npublic > 1 || (s.npublic && strcmp(s.public_key, k.public_key))) {
        snprintf(err, errlen, "%s: the public-key line does not match the secret key", path);
        goto out;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        log_warn("%s holds a secret key but is readable by others (mode %03o): chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
    *kp = k;
    rc = 0;
out:
    explicit_bzero(&k, sizeof(k));
    scan_fini(&s);
    return rc;
}

int auth_public_read(const char *path, char *key, char *err, size_t errlen)
{
    struct scan s;
    int rc = scan_file(path, false, &s, err, errlen);
    if (rc < 0)
        return rc;
    rc = -EINVAL;
    if (s.npublic != 1)
        snprintf(err, errlen, "%s: %s", path,
                 s.npublic ? "more than one public key (expected one, as in NAME.pub)"
                           : "no public key found");
    else
        rc = 0;
    if (rc == 0 && s.nsecret)
        log_warn("%s also holds a secret key: actors need only the learner's NAME.pub", path);
    if (rc == 0)
        memcpy(key, s.public_key, AUTH_KEY_LEN + 1);
    scan_fini(&s);
    return rc;
}

int auth_allow_read(const char *path, uint8_t (**keys)[32], struct auth_rule **rules, size_t *n,
                    char *err, size_t errlen)
{
    struct scan s;
    int rc = scan_file(path, true, &s, err, errlen);
    if (rc < 0)
        return rc;
    if (s.nsecret) {
        snprintf(err, errlen, "%s:%d: a secret key in an allow list (list public keys only)", path,
                 s.secret_line);
        rc = -EINVAL;
    } else if (s.nkeys == 0) {
        snprintf(err, errlen, "%s: no keys (one Z85 public key per line)", path);
        rc = -ENODATA;
    }
    if (rc == 0) {
        *keys = s.keys;
        *n = s.nkeys;
        s.keys = NULL;
        if (rules) {
            *rules = s.rules;
            s.rules = NULL;
        }
    }
    scan_fini(&s);
    return rc;
}

// ---- writing -----------------------------------------------------------------------------

// write text to path through a temp file with the given mode, then rename over it
static int write_atomic(const char *path, const char *text, mode_t mode, bool force, char *err,
                        size_t errlen)
{
    struct stat st;
    if (!force && lstat(path, &st) == 0) {
        snprintf(err, errlen, "%s exists (use --force to replace it)", path);
        return -EEXIST;
    }
    struct afile a;
    int rc = afile_open(&a, path, (int)mode);
    if (rc == 0 && fchmod(a.fd, mode) != 0) /* exactly mode, whatever the umask */
        rc = -errno;
    if (rc == 0)
        rc = afile_write(&a, text, strlen(text));
    if (rc == 0)
        rc = afile_commit(&a);
    else
        afile_abort(&a);
    if (rc < 0)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
    return rc;
}

int auth_keypair_save(const struct auth_keypair *kp, const char *dir, const char *name, bool force,
                      char *err, size_t errlen)
{
    if (!name[0] || strchr(name, '/') || strlen(name) > 128) {
        snprintf(err, errlen, "bad key name '%s' (no '/', 1-128 characters)", name);
        return -EINVAL;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        int rc = rl_mkdir_p(dir);
        if (rc == 0 && chmod(dir, 0700) != 0)
            rc = -errno;
        if (rc < 0) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
            return rc;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", dir);
        return -ENOTDIR;
    }
    char path[PATH_MAX], text[512];
    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    snprintf(text, sizeof(text),
             "# rldt CURVE key pair \"%s\": SECRET, keep it private (mode 0600).\n"
             "# Learner: curve_server_key = this file. Actor: curve_client_key = this file.\n"
             "public-key = %s\nsecret-key = %s\n",
             name, kp->public_key, kp->secret_key);
    int rc = write_atomic(path, text, 0600, force, err, errlen);
    explicit_bzero(text, sizeof(text));
    if (rc < 0)
        return rc;
    snprintf(path, sizeof(path), "%s/%s.pub", dir, name);
    snprintf(text, sizeof(text),
             "# rldt CURVE public key \"%s\". A learner's: actors set curve_server_key to this\n"
             "# file. An actor's: append this file to the learner's curve_allow list.\n%s\n",
             name, kp->public_key);
    return write_atomic(path, text, 0644, force, err, errlen);
}

// ---- sockets -----------------------------------------------------------------------------

static bool auth_on(const struct rl_config *c)
{
    return !strcmp(c->auth, "curve");
}

int auth_server_keys(struct auth_keys *k, const struct rl_config *c, char *err, size_t errlen)
{
    struct auth_keys out = {.curve = auth_on(c)};
    if (!out.curve) {
        *k = out;
        return 0;
    }
    if (!c->curve_server_key[0] || !c->curve_allow[0]) {
        snprintf(err, errlen, "auth = curve needs %s",
                 !c->curve_server_key[0]
                     ? "curve_server_key (the learner's NAME.key from `rldt keygen`)"
                     : "curve_allow (a file of allowed actor public keys, one per line)");
        return -EINVAL;
    }
    int rc = auth_keypair_read(c->curve_server_key, &out.own, err, errlen);
    if (rc < 0)
        return rc;
    memcpy(out.server_key, out.own.public_key, sizeof(out.server_key));
    *k = out;
    explicit_bzero(&out, sizeof(out));
    return 0;
}

int auth_client_keys(struct auth_keys *k, const struct rl_config *c, char *err, size_t errlen)
{
    struct auth_keys out = {.curve = auth_on(c)};
    if (!out.curve) {
        *k = out;
        return 0;
    }
    if (!c->curve_server_key[0] || !c->curve_client_key[0]) {
        snprintf(err, errlen, "auth = curve needs %s",
                 !c->curve_server_key[0]
                     ? "curve_server_key (the learner's NAME.pub)"
                     : "curve_client_key (this actor's NAME.key from `rldt keygen`)");
        return -EINVAL;
    }
    int rc = auth_public_read(c->curve_server_key, out.server_key, err, errlen);
    if (rc == 0)
        rc = auth_keypair_read(c->curve_client_key, &out.own, err, errlen);
    if (rc == 0)
        *k = out;
    explicit_bzero(&out, sizeof(out));
    return rc;
}

int auth_server_socket(void *sock, const struct auth_keys *k)
{
    if (!k->curve)
        return 0;
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->own.secret_key, AUTH_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, AUTH_ZAP_DOMAIN, strlen(AUTH_ZAP_DOMAIN)) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one)) != 0)
        return -zmq_errno();
    return 0;
}

int auth_client_socket(void *sock, const struct auth_keys *k)
{
    if (!k->curve)
        return 0;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, k->server_key, AUTH_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, k->own.public_key, AUTH_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->own.secret_key, AUTH_KEY_LEN + 1) != 0)
        return -zmq_errno();
    return 0;
}

// ---- ZAP handler -------------------------------------------------------------------------

struct auth_zap {
    void *zctx;
    void *rep; /* ZAP requests (RFC 27), owned by the thread once started */
    uint8_t (*keys)[32];
    struct auth_rule *rules;
    size_t nkeys;
    auth_fail_fn on_fail;
    void *user;
    pthread_t th;
    bool started;
    atomic_bool stop;
    atomic_uint_fast64_t allowed, denied, failed;
    pthread_mutex_t lock; /* hands monitor sockets to the thread (mon, nmon) */
    void *mon[WATCH_MAX];
    int nmon;
};

static bool key_allowed(const struct auth_zap *z, const void *key)
{
    for (size_t i = 0; i < z->nkeys; i++)
        if (!memcmp(z->keys[i], key, 32))
            return true;
    return false;
}

// does frame f hold exactly the text s?
static bool frame_is(zmq_msg_t *f, const char *s)
{
    return zmq_msg_size(f) == strlen(s) && !memcmp(zmq_msg_data(f), s, strlen(s));
}

// answer one ZAP request: 200 for an allow-listed CURVE client of our domain, else 400
static void zap_answer(struct auth_zap *z)
{
    enum { VERSION, ID, DOMAIN, ADDRESS, IDENTITY, MECH, CRED, NFRAMES };
    zmq_msg_t f[NFRAMES + 1];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_init(&f[n]);
        if (zmq_msg_recv(&f[n], z->rep, 0) < 0) {
            zmq_msg_close(&f[n]);
            break;
        }
        more = zmq_msg_more(&f[n]);
        if (n < NFRAMES)
            n++;
        else
            zmq_msg_close(&f[n]); /* extra frames are ignored */
    }
    if (n == 0)
        return;
    bool ok = n == NFRAMES && frame_is(&f[VERSION], "1.0") &&
              frame_is(&f[DOMAIN], AUTH_ZAP_DOMAIN) && frame_is(&f[MECH], "CURVE") &&
              zmq_msg_size(&f[CRED]) == 32 && key_allowed(z, zmq_msg_data(&f[CRED]));
    char who[AUTH_KEY_LEN + 1] = "?", addr[64] = "?";
    if (n == NFRAMES && zmq_msg_size(&f[CRED]) == 32)
        zmq_z85_encode(who, zmq_msg_data(&f[CRED]), 32);
    if (n > ADDRESS)
        snprintf(addr, sizeof(addr), "%.*s", (int)RL_MIN(zmq_msg_size(&f[ADDRESS]), 60),
                 (const char *)zmq_msg_data(&f[ADDRESS]));
    uint64_t k = ok ? atomic_fetch_add(&z->allowed, 1) : atomic_fetch_add(&z->denied, 1);
    if (!ok && (k == 0 || (k + 1) % 100 == 0))
        log_warn("auth: refused a client from %s (public key %s is not allowed; %llu refused)",
                 addr, who, (unsigned long long)k + 1);
    // reply: version, request id, status code, status text, user id, metadata
    const char *code = ok ? "200" : "400", *text = ok ? "OK" : "not allowed";
    zmq_send(z->rep, "1.0", 3, ZMQ_SNDMORE);
    if (n > ID)
        zmq_send(z->rep, zmq_msg_data(&f[ID]), zmq_msg_size(&f[ID]), ZMQ_SNDMORE);
    else
        zmq_send(z->rep, "", 0, ZMQ_SNDMORE);
    zmq_send(z->rep, code, 3, ZMQ_SNDMORE);
    zmq_send(z->rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(z->rep, ok ? who : "", ok ? AUTH_KEY_LEN : 0, ZMQ_SNDMORE);
    zmq_send(z->rep, "", 0, 0);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

int auth_zap_identity(const struct auth_zap *z, const char *key, const char *name, bool evaluator,
                      char *why, size_t whylen)
{
    uint8_t bin[32];
    if (strlen(key) == AUTH_KEY_LEN && zmq_z85_decode(bin, key))
        for (size_t i = 0; i < z->nkeys; i++)
            if (!memcmp(z->keys[i], bin, 32))
                return auth_rule_permits(&z->rules[i], name, evaluator, why, whylen) ? 0 : -EPERM;
    snprintf(why, whylen, "the client key is not in the allow list");
    return -EPERM;
}

// one monitor event: [u16 event, u32 value][endpoint]
static void monitor_event(struct auth_zap *z, void *mon)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    uint16_t ev = 0;
    int first = 1, more = 1;
    while (more && zmq_msg_recv(&m, mon, 0) >= 0) {
        if (first && zmq_msg_size(&m) >= 6)
            memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
        first = 0;
        more = zmq_msg_more(&m);
    }
    zmq_msg_close(&m);
    if (!(ev & HANDSHAKE_EVENTS))
        return;
    atomic_fetch_add(&z->failed, 1);
    if (z->on_fail)
        z->on_fail(z->user, "auth_failed");
}

static void *zap_main(void *arg)
{
    struct auth_zap *z = arg;
    zmq_pollitem_t it[1 + WATCH_MAX];
    while (!atomic_load(&z->stop)) {
        pthread_mutex_lock(&z->lock);
        int n = z->nmon;
        for (int i = 0; i < n; i++)
            it[1 + i] = (zmq_pollitem_t){z->mon[i], 0, ZMQ_POLLIN, 0};
        pthread_mutex_unlock(&z->lock);
        it[0] = (zmq_pollitem_t){z->rep, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(it, 1 + n, ZAP_POLL_MS) < 0) {
            if (zmq_errno() == ETERM)
                break;
            continue;
        }
        if (it[0].revents & ZMQ_POLLIN)
            zap_answer(z);
        for (int i = 0; i < n; i++)
            if (it[1 + i].revents & ZMQ_POLLIN)
                monitor_event(z, it[1 + i].socket);
    }
    return NULL;
}

struct auth_zap *auth_zap_new(void *zctx, const char *allow_path, auth_fail_fn on_fail, void *user,
                              char *err, size_t errlen)
{
    struct auth_zap *z = calloc(1, sizeof(*z));
    if (!z) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    z->zctx = zctx;
    z->on_fail = on_fail;
    z->user = user;
    pthread_mutex_init(&z->lock, NULL);
    if (auth_allow_read(allow_path, &z->keys, &z->rules, &z->nkeys, err, errlen) < 0)
        goto err_destroy;
    int linger = 0;
    z->rep = zmq_socket(zctx, ZMQ_REP);
    if (!z->rep || zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "cannot start the ZAP handler (%s): %s", ZAP_ENDPOINT,
                 zmq_strerror(zmq_errno()));
        goto err_destroy;
    }
    int rc = pthread_create(&z->th, NULL, zap_main, z);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the ZAP handler thread: %s", strerror(rc));
        goto err_destroy;
    }
    z->started = true;
    log_info("auth: CURVE on, %zu allowed actor key%s from %s", z->nkeys, z->nkeys == 1 ? "" : "s",
             allow_path);
    return z;
err_destroy:
    auth_zap_destroy(&z);
    return NULL;
}

int auth_zap_watch(struct auth_zap *z, void *sock)
{
    static atomic_int serial;
    pthread_mutex_lock(&z->lock);
    int n = z->nmon;
    pthread_mutex_unlock(&z->lock);
    if (n >= WATCH_MAX)
        return -ENOSPC;
    char ep[96];
    snprintf(ep, sizeof(ep), "inproc://rldt-auth-monitor-%d-%d", (int)getpid(),
             atomic_fetch_add(&serial, 1));
    if (zmq_socket_monitor(sock, ep, HANDSHAKE_EVENTS) != 0)
        return -zmq_errno();
    void *pair = zmq_socket(z->zctx, ZMQ_PAIR);
    int linger = 0;
    if (!pair || zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        zmq_connect(pair, ep) != 0) {
        int e = zmq_errno();
        if (pair)
            zmq_close(pair);
        zmq_socket_monitor(sock, NULL, 0);
        return -e;
    }
    pthread_mutex_lock(&z->lock); /* the thread owns pair from here (a full barrier) */
    z->mon[z->nmon++] = pair;
    pthread_mutex_unlock(&z->lock);
    return 0;
}

void auth_zap_counts(struct auth_zap *z, struct auth_counts *out)
{
    out->allowed = atomic_load(&z->allowed);
    out->denied = atomic_load(&z->denied);
    out->failed = atomic_load(&z->failed);
}

void auth_zap_destroy(struct auth_zap **pz)
{
    struct auth_zap *z = pz ? *pz : NULL;
    if (!z)
        return;
    atomic_store(&z->stop, true);
    if (z->started)
        pthread_join(z->th, NULL);
    for (int i = 0; i < z->nmon; i++)
        zmq_close(z->mon[i]);
    if (z->rep)
        zmq_close(z->rep);
    pthread_mutex_destroy(&z->lock);
    free(z->keys);
    free(z->rules);
    free(z);
    *pz = NULL;
}
