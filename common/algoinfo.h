/*
 * algoinfo.h — the one table of what every process knows of an algorithm before any of its
 * code runs: its name (a value of the `algo` key), the policy kind its actors sample with and
 * the action chunk it defaults to. The config, the actor and the CLI read it here; the learner's
 * registry (learner/algo.c) holds each algorithm's code under the same name (test_config checks
 * that the two list the same algorithms). common/ does not depend on learner/.
 */
#ifndef RL_ALGOINFO_H
#define RL_ALGOINFO_H

#include <stddef.h>

struct algoinfo {
    const char *name;        /* "sac", "rldt", "rldt-delta", "reinflow" */
    const char *policy_kind; /* the actor-side sampler: "gauss", "flow", "reinflow" (policy.h) */
    int default_chunk;       /* action chunk H when the config says chunk = 0 */
};

/* The algorithm called name, or NULL. Nullable: name. */
const struct algoinfo *algoinfo_find(const char *name);

/* The i-th algorithm (0 <= i < algoinfo_count()), NULL beyond. */
size_t algoinfo_count(void);
const struct algoinfo *algoinfo_at(size_t i);

/* The names as the choices of the `algo` key: "sac|rldt|..." (a static string). */
const char *algoinfo_choices(void);

#endif
