/*
 * auth.h — authenticated, encrypted transport with ZeroMQ CURVE: key files (Z85 text written
 * by `rldt keygen`), the socket options of a CURVE server (the learner) and client (actors),
 * and a ZAP handler thread that admits only allow-listed client public keys and counts every
 * failed handshake (unknown key, wrong server key, plain client without CURVE).
 *
 * Key files: NAME.key holds `public-key = Z85` and `secret-key = Z85` lines (mode 0600);
 * NAME.pub holds the bare Z85 public key. An allow list holds one Z85 public key per line,
 * `#` comments and blank lines allowed, so `cat actor*.pub > allow.txt` makes one. A key may
 * be followed by options that bind it to an identity (auth_rule):
 *   KEY names=PATTERN[,PATTERN...] role=actor|evaluator|any
 * names: the actor names (the Hello's name, `actor_name`) a client with this key may register
 * under, as shell patterns (fnmatch: `*`, `?`, `[...]`), default any; role: whether it may
 * register actors, the evaluator or both (default any).
 * Key-file functions are thread-safe (no state); a struct auth_zap is used by one thread.
 */
#ifndef RL_AUTH_H
#define RL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define AUTH_KEY_LEN 40        /* Z85 characters of a 32-byte CURVE key */
#define AUTH_ZAP_DOMAIN "rldt" /* ZAP domain of the learner's sockets (non-empty: enforced) */

#define AUTH_NAMES_MAX 256 /* bytes of an allow-list entry's names= value, NUL included */

/* What an allow-list entry lets its key register as (the options after the key). */
enum auth_role { AUTH_ROLE_ANY = 0, AUTH_ROLE_ACTOR, AUTH_ROLE_EVALUATOR };
struct auth_rule {
    char names[AUTH_NAMES_MAX]; /* comma-separated fnmatch patterns; "" = any name */
    enum auth_role role;
};

/* May a client under rule r register as `name`, an evaluator or not? true, or false with the
 * reason in why. */
bool auth_rule_permits(const struct auth_rule *r, const char *name, bool evaluator, char *why,
                       size_t whylen);

/* A CURVE key pair as Z85 text (NUL-terminated). */
struct auth_keypair {
    char public_key[AUTH_KEY_LEN + 1];
    char secret_key[AUTH_KEY_LEN + 1];
};

/* What a socket needs: curve false = plain ZeroMQ (auth = none). */
struct auth_keys {
    bool curve;
    char server_key[AUTH_KEY_LEN + 1]; /* the learner's public key */
    struct auth_keypair own;           /* server: the learner's pair; client: the actor's */
};

// ---- key files ---------------------------------------------------------------------------

/* Make a new random key pair. Returns 0, or -ENOTSUP when libzmq was built without CURVE. */
int auth_keypair_new(struct auth_keypair *kp);

/* True when s is exactly AUTH_KEY_LEN Z85 characters that decode to a 32-byte key. */
bool auth_key_valid(const char *s);

/*
 * Write DIR/NAME.key (the pair, mode 0600) and DIR/NAME.pub (public key, mode 0644), each
 * atomically (temp file + rename). DIR is created (0700) if missing. Existing files are
 * replaced only when force is true. Returns 0, or -errno (-EEXIST, -EINVAL for a name with
 * '/' or an empty one) with a one-line reason in err.
 */
int auth_keypair_save(const struct auth_keypair *kp, const char *dir, const char *name, bool force,
                      char *err, size_t errlen);

/*
 * Read a key pair file (NAME.key). The public key is derived from the secret key and must
 * match a `public-key` line when one is present. Warns (log) when the file is readable by
 * group or others. Returns 0, or -errno (-ENOENT, -EACCES, -EINVAL for a malformed file)
 * with a one-line reason in err naming the file and line; kp is untouched on failure.
 */
int auth_keypair_read(const char *path, struct auth_keypair *kp, char *err, size_t errlen);

/*
 * Read a public key file (NAME.pub: a bare key, or a `public-key = ` line). Writes
 * AUTH_KEY_LEN + 1 bytes to key. Returns 0 or -errno with a reason in err, as above.
 */
int auth_public_read(const char *path, char *key, char *err, size_t errlen);

/*
 * Read an allow list: one Z85 public key per line, optionally followed by options (names=,
 * role=; see the top of this file) and a `# comment` after whitespace, `#` comment lines,
 * blank lines. On success *keys is a malloc'd array of *n 32-byte binary keys (caller frees;
 * *n >= 1), and *rules (nullable) a malloc'd array of their *n rules. An empty list (-ENODATA),
 * an unknown option or a malformed value (-EINVAL) is an error with the file and line in err.
 */
int auth_allow_read(const char *path, uint8_t (**keys)[32], struct auth_rule **rules, size_t *n,
                    char *err, size_t errlen);

// ---- sockets -----------------------------------------------------------------------------

/*
 * The learner's keys from config c: auth none → k->curve false; auth curve → the key pair in
 * curve_server_key (and curve_allow must be set; the ZAP handler reads it). Returns 0 or
 * -errno with a one-line reason in err (missing key, unreadable file, malformed key).
 */
int auth_server_keys(struct auth_keys *k, const struct rl_config *c, char *err, size_t errlen);

/*
 * An actor's keys from config c: auth curve → the learner's public key from curve_server_key
 * and the actor's pair from curve_client_key. Returns 0 or -errno + reason, as above.
 */
int auth_client_keys(struct auth_keys *k, const struct rl_config *c, char *err, size_t errlen);

/*
 * Make sock a CURVE server (secret key, ZAP domain AUTH_ZAP_DOMAIN, domain enforced) before
 * it binds. No-op when !k->curve. Returns 0 or -zmq_errno().
 */
int auth_server_socket(void *sock, const struct auth_keys *k);

/* Make sock a CURVE client of k->server_key before it connects. No-op when !k->curve. */
int auth_client_socket(void *sock, const struct auth_keys *k);

// ---- ZAP handler -------------------------------------------------------------------------

/* Called on the handler thread for every failed handshake; reason is "auth_failed". */
typedef void (*auth_fail_fn)(void *user, const char *reason);

struct auth_zap;

/* Counters of a ZAP handler (monotonic). */
struct auth_counts {
    uint64_t allowed; /* ZAP requests answered 200 */
    uint64_t denied;  /* ZAP requests answered 400 (unknown key, wrong domain or mechanism) */
    uint64_t failed;  /* failed handshakes seen on watched sockets (any cause) */
};

/*
 * Start a ZAP handler on inproc://zeromq.zap.01 of context zctx, admitting the public keys in
 * the allow list file allow_path. Call it before any CURVE server socket binds; one per
 * context. on_fail (nullable) is called from the handler thread for each failed handshake on
 * a watched socket. Returns the handler (caller owns, free with auth_zap_destroy() before
 * zmq_ctx_term) or NULL with a one-line reason in err.
 */
struct auth_zap *auth_zap_new(void *zctx, const char *allow_path, auth_fail_fn on_fail, void *user,
                              char *err, size_t errlen);

/*
 * Watch the handshakes of server socket sock (zmq_socket_monitor). Call from the thread
 * that owns sock, before handing it to another thread. Returns 0, -ENOSPC (at most 8) or
 * -zmq_errno().
 */
int auth_zap_watch(struct auth_zap *z, void *sock);

/*
 * May the client whose public key is `key` (Z85, the ZAP User-Id of its messages) register as
 * `name`, an evaluator or not, under its allow-list entry? 0, or -EPERM with the reason in why
 * (also for a key not in the list). Any thread: the list does not change after auth_zap_new.
 */
int auth_zap_identity(const struct auth_zap *z, const char *key, const char *name, bool evaluator,
                      char *why, size_t whylen);

/* Read the counters (any thread). */
void auth_zap_counts(struct auth_zap *z, struct auth_counts *out);

/* Stop the thread, close its sockets, free, *pz = NULL. Nullable: pz, *pz. */
void auth_zap_destroy(struct auth_zap **pz);

#endif
