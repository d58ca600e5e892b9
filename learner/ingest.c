/*
 * ingest.c — the ingest thread: PULL segments, check size, decode, validate against the run,
 * store in the replay. Holds actors back (stops reading, so their send queues fill) while
 * ingest runs ahead of training by more than the configured slack.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "common/util.h"
#include "learner/shared.h"
#include "proto/wire.h"

#define HOLD_POLL_SECS 0.001 /* while held: how often to look whether training caught up */
#define POLL_MS 50           /* wait for segments this long, then look at quit and the hold */
#define DRAIN_MAX 256        /* segments per wake-up: bounds the time between hold checks */
#define CHAIN_LIMIT 100.0    /* |x_k| of a denoising chain (actions live in [-1, 1]) */

// an on-policy run has a full batch of the current version: the rest would go unused
static bool batch_full(struct shared *s)
{
    return replay_chain_len(s->replay) > 0 && !atomic_load(&s->finished) &&
           atomic_load(&s->batch_version) == atomic_load(&s->version) &&
           atomic_load(&s->batch_steps) >= (uint64_t)s->cfg.reinflow_batch;
}

static bool must_hold(struct shared *s)
{
    struct schedule sc;
    shared_schedule(s, &sc);
    return sc.hold || batch_full(s);
}

// count an accepted segment towards the batch of its (current) version
static void count_batch(struct shared *s, uint64_t version, uint32_t T)
{
    if (atomic_load(&s->batch_version) != version) {
        atomic_store(&s->batch_steps, 0);
        atomic_store(&s->batch_version, version);
    }
    atomic_fetch_add(&s->batch_steps, T);
}

static void record_returns(struct shared *s, const struct wire_segment *g)
{
    if (!g->n_episodes)
        return;
    atomic_fetch_add(&s->episodes, g->n_episodes);
    for (uint32_t i = 0; g->episode_success && i < g->n_episodes; i++)
        atomic_fetch_add(&s->successes, g->episode_success[i]);
    pthread_mutex_lock(&s->ret_lock);
    for (uint32_t i = 0; i < g->n_episodes; i++) {
        s->ret[s->ret_head] = g->episode_return[i];
        s->ret_head = (s->ret_head + 1) % RECENT_RETURNS;
        if (s->ret_n < RECENT_RETURNS)
            s->ret_n++;
    }
    pthread_mutex_unlock(&s->ret_lock);
}

// index of the first |x[i]| > limit in x[0..n), or -1 (values are finite: wire_check)
static long beyond(const float *x, size_t n, double limit)
{
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > limit)
            return (long)i;
    return -1;
}

// a run that trains on chains (replay_chain_len > 0) needs one of its size per step, with
// states within CHAIN_LIMIT; other runs ignore chains. REJECT_COUNT when g is fine.
static enum learner_reject check_chain(struct shared *s, const struct wire_segment *g, char *why,
                                       size_t n)
{
    int C = replay_chain_len(s->replay);
    if (C == 0)
        return REJECT_COUNT;
    if (g->chain_len != (uint32_t)C)
        return snprintf(why, n, "chain of %u floats per step, the run needs %d", g->chain_len, C),
               REJECT_BAD_CHAIN;
    long i = beyond(g->chain, (size_t)g->T * g->chain_len, CHAIN_LIMIT);
    if (i >= 0)
        return snprintf(why, n, "chain[%ld] = %g beyond %g", i, g->chain[i], CHAIN_LIMIT),
               REJECT_BAD_CHAIN;
    return REJECT_COUNT;
}

// the run's value limits (README: value limits); REJECT_COUNT when g is within them
static enum learner_reject check_values(struct shared *s, const struct wire_segment *g, char *why,
                                        size_t n)
{
    const struct rl_config *c = &s->cfg;
    size_t T = g->T;
    long i;
    if ((i = beyond(g->obs, (T + 1) * g->obs_dim, c->obs_limit)) >= 0)
        return snprintf(why, n, "obs[%ld] = %g beyond obs_limit", i, g->obs[i]), REJECT_OBS_RANGE;
    if ((i = beyond(g->actions, T * g->D, c->action_limit)) >= 0)
        return snprintf(why, n, "action[%ld] = %g beyond action_limit", i, g->actions[i]),
               REJECT_ACTION_RANGE;
    if ((i = beyond(g->rewards, T, c->reward_limit)) >= 0)
        return snprintf(why, n, "reward[%ld] = %g beyond reward_limit", i, g->rewards[i]),
               REJECT_REWARD_RANGE;
    for (size_t t = 0; t < T; t++)
        if (g->steps[t] > (uint32_t)s->dims.chunk)
            return snprintf(why, n, "steps[%zu] = %u, chunk is %d", t, g->steps[t], s->dims.chunk),
                   REJECT_BAD_STEPS;
    // one summary exactly when the segment ends an episode, of a length the run allows
    bool ended = g->terminal[T - 1] || g->truncated[T - 1];
    if (g->n_episodes != (ended ? 1u : 0u) ||
        (ended && g->episode_len[0] > (uint32_t)c->max_episode_steps))
        return snprintf(why, n, "%u episode summaries (length %u) for end flag %d", g->n_episodes,
                        g->n_episodes ? g->episode_len[0] : 0, ended),
               REJECT_BAD_EPISODES;
    if (ended && fabs(g->episode_return[0]) > c->reward_limit * g->episode_len[0])
        return snprintf(why, n, "episode return %g beyond reward_limit per step",
                        g->episode_return[0]),
               REJECT_REWARD_RANGE;
    return check_chain(s, g, why, n);
}

// semantic checks of a structurally valid segment, then store it
int ingest_store(struct replay *r, const struct wire_segment *g, uint64_t traj, bool chain)
{
    int steps[WIRE_T_MAX];
    RL_ASSERT(g->T <= WIRE_T_MAX);
    for (uint32_t t = 0; t < g->T; t++)
        steps[t] = (int)g->steps[t];
    struct replay_segment rs = {.T = (int)g->T,
                                .obs = g->obs,
                                .act = g->actions,
                                .rew = g->rewards,
                                .steps = steps,
                                .term = g->terminal,
                                .trunc = g->truncated,
                                .traj_id = traj,
                                .version = g->policy_version,
                                .chain = chain ? g->chain : NULL,
                                .logp = chain ? g->chain_logp : NULL};
    return replay_add_img(r, &rs, g->images);
}

static void accept_segment(struct shared *s, const struct wire_segment *g, const char *key)
{
    char why[160];
    if (g->run_epoch != s->run_epoch) {
        shared_reject(s, REJECT_STALE_EPOCH, "segment from an earlier run epoch");
        return;
    }
    /* the run is complete (final checkpoint and replay written): a segment still in flight
     * from an actor that has already said goodbye is not part of it, and not a rejection */
    if (atomic_load(&s->finished))
        return;
    if ((int)g->obs_dim != s->dims.obs_dim || (int)g->D != s->dims.D) {
        snprintf(why, sizeof(why), "segment dims obs %u D %u, run has obs %d D %d", g->obs_dim,
                 g->D, s->dims.obs_dim, s->dims.D);
        shared_reject(s, REJECT_WRONG_DIMS, why);
        return;
    }
    uint64_t cur = atomic_load(&s->version);
    if (g->policy_version > cur || cur - g->policy_version > (uint64_t)s->cfg.max_policy_lag) {
        snprintf(why, sizeof(why), "policy version %llu, current %llu",
                 (unsigned long long)g->policy_version, (unsigned long long)cur);
        shared_reject(s, REJECT_STALE_POLICY, why);
        return;
    }
    if (memcmp(&g->image, &s->image, sizeof(s->image)) != 0) {
        snprintf(why, sizeof(why), "segment images %ux%ux%u, run has %ux%ux%u (0: none)",
                 g->image.h, g->image.w, g->image.c, s->image.h, s->image.w, s->image.c);
        shared_reject(s, REJECT_BAD_IMAGE, why);
        return;
    }
    enum learner_reject bad = check_values(s, g, why, sizeof(why));
    if (bad != REJECT_COUNT) {
        shared_reject(s, bad, why);
        return;
    }
    uint64_t env_steps = 0;
    for (uint32_t t = 0; t < g->T; t++)
        env_steps += g->steps[t];
    struct actors_peer p = {g->actor_id, &g->session, key};
    enum actors_check ac = actors_segment(s->actors, &p, g->seq, g->policy_version, env_steps);
    if (ac != ACTORS_OK) {
        snprintf(why, sizeof(why), "segment of actor %u seq %llu", g->actor_id,
                 (unsigned long long)g->seq);
        shared_reject_peer(s, ac, why);
        return;
    }
    uint64_t traj = atomic_fetch_add(&s->segments, 1);
    bool chain = replay_chain_len(s->replay) > 0;
    if (ingest_store(s->replay, g, traj, chain) < 0) {
        shared_reject(s, REJECT_WRONG_DIMS, "segment longer than the replay");
        return;
    }
    if (chain)
        count_batch(s, g->policy_version, g->T);
    atomic_fetch_add(&s->chunk_steps, g->T);
    atomic_fetch_add(&s->env_steps, env_steps);
    record_returns(s, g);
}

static void handle(struct shared *s, struct wire_decoder *dec, zmq_msg_t *m)
{
    struct wire_msg msg;
    if (shared_decode(s, dec, "data socket", zmq_msg_data(m), zmq_msg_size(m), DATA_MAX_MSG, &msg) <
        0)
        return;
    if (msg.type != WIRE_SEGMENT) {
        shared_reject(s, REJECT_WRONG_TYPE, wire_type_name(msg.type));
        return;
    }
    accept_segment(s, &msg.segment, shared_peer_key(m));
}

void *ingest_main(void *arg)
{
    struct ingest_args *a = arg;
    struct shared *s = a->s;
    struct wire_decoder *dec = wire_decoder_new(DATA_MAX_MSG);
    if (!dec) {
        log_error("ingest: out of memory");
        return NULL;
    }
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_pollitem_t item = {a->sock, 0, ZMQ_POLLIN, 0};
    double held_since = -1;
    while (!atomic_load(&s->quit)) {
        if (must_hold(s)) {
            if (held_since < 0)
                held_since = rl_now();
            atomic_store(&s->ingest_held, true);
            rl_sleep(HOLD_POLL_SECS);
            continue;
        }
        if (held_since >= 0) {
            atomic_fetch_add(&s->held_secs_ms, (uint64_t)((rl_now() - held_since) * 1000));
            held_since = -1;
            atomic_store(&s->ingest_held, false);
        }
        int n = zmq_poll(&item, 1, POLL_MS);
        if (n <= 0)
            continue;
        // drain what is queued, re-checking the hold between messages
        for (int k = 0; k < DRAIN_MAX && !must_hold(s); k++) {
            if (zmq_msg_recv(&m, a->sock, ZMQ_DONTWAIT) < 0)
                break;
            handle(s, dec, &m);
        }
    }
    zmq_msg_close(&m);
    zmq_close(a->sock);
    wire_decoder_destroy(&dec);
    return NULL;
}
