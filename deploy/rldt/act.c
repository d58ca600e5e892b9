/*
 * act.c — `rldt act --policy=P OBS.csv`: the action chunks a policy gives for given
 * observations, through policy_act (what `rldt eval` and the actors call), one batch of all
 * rows. Prints one CSV line per observation: the H·A actions, and for a stochastic flow policy
 * also the noise it drew (x0 then xi, H·A each), replayed from a copy of the generator, so
 * another runtime can be fed the same noise (`rldt export`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/policy.h"
#include "common/rng.h"
#include "common/task.h"
#include "deploy/rldt/cmd.h"

#define ACT_USAGE                                                                                  \
    "rldt act --policy=P [--deterministic] [--seed=N] OBS.csv\n"                                   \
    "  OBS.csv: one observation per line (comma-separated); prints the action chunk per line,\n"   \
    "  followed by the noise x0, xi of a stochastic flow policy"
#define ACT_MAX_ROWS 4096

/* rows of O comma-separated floats into obs (ACT_MAX_ROWS, O); the row count or -EINVAL */
static int read_obs(FILE *f, int O, float *obs, char *err, size_t errlen)
{
    char line[65536];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '\n' || line[0] == '#')
            continue;
        if (n == ACT_MAX_ROWS) {
            snprintf(err, errlen, "more than %d observations", ACT_MAX_ROWS);
            return -EINVAL;
        }
        char *p = line;
        for (int i = 0; i < O; i++) {
            char *end;
            obs[(size_t)n * O + i] = strtof(p, &end);
            if (end == p || (i < O - 1 && *end != ',')) {
                snprintf(err, errlen, "line %d: expected %d comma-separated numbers", n + 1, O);
                return -EINVAL;
            }
            p = end + 1;
        }
        n++;
    }
    if (n == 0)
        snprintf(err, errlen, "no observations");
    return n ? n : -EINVAL;
}

static void print_row(const float *v, int n, const char *end)
{
    for (int j = 0; j < n; j++)
        printf("%.9g%s", v[j], j + 1 < n ? "," : end);
}

/* the noise fp_act draws: x0 (B, D) with rng_normal_fill, then xi one rng_normal per value */
static void replay_noise(struct rng r, int B, int D, int steps, float *x0, float *xi)
{
    rng_normal_fill(&r, x0, (long)B * D);
    for (long j = 0; j < (long)B * D; j++)
        xi[j] = steps >= 2 ? (float)rng_normal(&r) : 0.0f;
}

static int act(struct rl_config *c, struct policy *p, const char *path, char *err, size_t errlen)
{
    const struct task_info *t = task_find(c->env);
    int O = t->obs_dim, D = c->chunk * t->act_dim;
    float *obs = malloc((size_t)ACT_MAX_ROWS * O * sizeof(float));
    FILE *f = fopen(path, "r");
    int B = !f ? -errno : !obs ? -ENOMEM : read_obs(f, O, obs, err, errlen);
    if (f)
        fclose(f);
    if (!f || !obs)
        snprintf(err, errlen, "%s: %s", path, strerror(-B));
    float *out = B > 0 ? malloc((size_t)B * D * 3 * sizeof(float)) : NULL;
    if (B > 0 && !out) {
        snprintf(err, errlen, "out of memory");
        B = -ENOMEM;
    }
    if (B > 0) {
        struct rng r;
        rng_init(&r, (uint64_t)c->seed, 1ull << 40);
        bool noise = !c->deterministic && !strcmp(policy_kind(p), "flow");
        if (noise)
            replay_noise(r, B, D, c->flow_steps, out + (size_t)B * D, out + (size_t)2 * B * D);
        policy_act(p, obs, B, &r, c->deterministic, out);
        for (int i = 0; i < B; i++) {
            print_row(out + (size_t)i * D, D, noise ? "," : "\n");
            if (noise) {
                print_row(out + (size_t)(B + i) * D, D, ",");
                print_row(out + (size_t)(2 * B + i) * D, D, "\n");
            }
        }
    }
    free(out);
    free(obs);
    return B > 0 ? 0 : B;
}

int cmd_act(int argc, char **argv)
{
    struct rl_config c;
    const char *pos[CONFIG_MAX_POS];
    int npos = 0;
    int rc = config_cli(&c, "rldt act", ACT_USAGE, "-policy,-deterministic,-seed", argc, argv, pos,
                        &npos);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (npos != 1 || !strcmp(c.policy, "random") || !strcmp(c.policy, "zero")) {
        fprintf(stderr, "usage: %s\n", ACT_USAGE);
        return 2;
    }
    char err[600];
    bool det = c.deterministic;
    int64_t seed = c.seed;
    struct policy *p = policy_load(c.policy, &c, ACT_MAX_ROWS, err, sizeof(err));
    c.deterministic = det; /* the flags, not the checkpoint's run config */
    c.seed = seed;
    if (!p || act(&c, p, pos[0], err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt act: %s\n", err);
        policy_destroy(&p);
        return 1;
    }
    policy_destroy(&p);
    return 0;
}
