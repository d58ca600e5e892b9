/*
 * synth.c — random segments for benchmarks and tests (see synth.h).
 */
#include "deploy/rldt/synth.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "learner/replay.h"

static void draw(struct rng *g, float *x, long n, float lo, float hi)
{
    for (long i = 0; i < n; i++)
        x[i] = lo == hi ? (float)rng_normal(g) : (float)rng_range(g, lo, hi);
}

int synth_fill_replay(struct replay *r, struct rng *g, const struct synth_spec *s, long nseg)
{
    int T = s->T;
    size_t nf = (size_t)(T + 1) * s->S + (size_t)T * s->D + (size_t)T;
    float *obs = malloc(nf * sizeof(float));
    int *steps = malloc((size_t)T * sizeof(int));
    uint8_t *ends = calloc((size_t)T * 2, 1);
    int rc = obs && steps && ends ? 0 : -ENOMEM;
    float *act = obs + (size_t)(T + 1) * s->S, *rew = act + (size_t)T * s->D;
    for (long k = 0; !rc && (nseg < 0 ? k == 0 || replay_size(r) < replay_capacity(r) : k < nseg);
         k++) {
        draw(g, obs, (long)(T + 1) * s->S, s->obs_lo, s->obs_hi);
        draw(g, act, (long)T * s->D, s->act_lo, s->act_hi);
        draw(g, rew, T, 0, 0);
        for (int t = 0; t < T; t++)
            steps[t] = s->steps;
        bool last_term = s->end == SYNTH_END_TERM || (s->end == SYNTH_END_ALTERNATE && k % 2 == 0);
        ends[T - 1] = last_term;
        ends[2 * T - 1] = s->end == SYNTH_END_ALTERNATE && k % 2 == 1;
        struct replay_segment seg = {.T = T,
                                     .obs = obs,
                                     .act = act,
                                     .rew = rew,
                                     .steps = s->steps ? steps : NULL,
                                     .term = ends,
                                     .trunc = ends + T,
                                     .traj_id = (uint64_t)k,
                                     .version = s->version};
        rc = replay_add(r, &seg);
    }
    free(obs);
    free(steps);
    free(ends);
    return rc;
}
