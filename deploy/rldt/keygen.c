/*
 * keygen.c — `rldt keygen --out=DIR [--name=NAME] [--force]`: write a CURVE key pair as
 * DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (public). One pair for the learner, one
 * per actor (or one shared by all actors); `cat DIR/actor*.pub > allow.txt` is an allow list.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/auth.h"
#include "deploy/rldt/cmd.h"

static const char usage[] =
    "usage: rldt keygen --out=DIR [--name=NAME] [--force]\n"
    "\n"
    "Writes a CURVE key pair for `auth = curve`: DIR/NAME.key (secret, mode 0600) and\n"
    "DIR/NAME.pub (public). NAME defaults to \"rldt\"; existing files are kept unless --force.\n"
    "\n"
    "  learner: curve_server_key = learner.key, curve_allow = a file of actor public keys\n"
    "           (one per line; `cat actor*.pub > allow.txt`)\n"
    "  actor:   curve_server_key = learner.pub, curve_client_key = actorN.key\n";

// the value of --key=VALUE or --key VALUE at argv[*i], or NULL when argv[*i] is not --key
static const char *opt_value(int argc, char **argv, int *i, const char *key, bool *missing)
{
    size_t n = strlen(key);
    const char *a = argv[*i];
    if (strncmp(a, key, n))
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n])
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int cmd_keygen(int argc, char **argv)
{
    const char *out = NULL, *name = "rldt", *v;
    bool force = false, missing = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if ((v = opt_value(argc, argv, &i, "--out", &missing)))
            out = v;
        else if ((v = opt_value(argc, argv, &i, "--name", &missing)))
            name = v;
        else if (!strcmp(argv[i], "--force"))
            force = true;
        else {
            fprintf(stderr, "rldt keygen: %s '%s'\n%s", missing ? "no value for" : "unknown option",
                    argv[i], usage);
            return 2;
        }
    }
    if (!out || !out[0]) {
        fprintf(stderr, "rldt keygen: --out=DIR is required\n%s", usage);
        return 2;
    }
    struct auth_keypair kp;
    char err[512];
    int rc = auth_keypair_new(&kp);
    if (rc < 0) {
        fprintf(stderr, "rldt keygen: this libzmq has no CURVE support\n");
        return 1;
    }
    rc = auth_keypair_save(&kp, out, name, force, err, sizeof(err));
    explicit_bzero(kp.secret_key, sizeof(kp.secret_key));
    if (rc < 0) {
        fprintf(stderr, "rldt keygen: %s\n", err);
        return rc == -EINVAL ? 2 : 1;
    }
    printf("wrote %s/%s.key (secret, 0600) and %s/%s.pub\npublic key: %s\n", out, name, out, name,
           kp.public_key);
    return 0;
}
