/*
 * learner.c — the learner process body: sockets, threads, the trainer loop and parameter
 * broadcasts. Stats snapshots and the CSV files are in learner_report.c, checkpoints in
 * checkpoint.c.
 */
#include "learner/learner.h"
#include "learner/learner_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/log.h"
#include "common/task.h"
#include "common/util.h"
#include "learner/checkpoint.h"
#include "proto/wire.h"

// socket sizes and the trainer loop's periods
#define SEND_HWM 8 /* messages queued per peer on the ROUTER and the PUB */
/* segments queued on the PULL socket: a short queue makes actors wait (their send queue fills)
 * instead of acting on ever older weights, which keeps the policy lag bounded */
#define DATA_RCVHWM 8
/* control messages queued: every actor of a large run may register at the same moment */
#define CONTROL_RCVHWM 1000
#define PUB_LINGER_MS 500       /* at close: time for the last params (the stop flag) to go out */
#define SUB_MAX_MSG 4096        /* the PUB socket only receives subscriptions: a few bytes */
#define DATA_RCVBUF 65536       /* bounded kernel buffers keep backpressure tight (policy lag) */
#define PARAMS_ENVELOPE 4096    /* a params message beyond its weights and bounds: the header */
#define TRAIN_IDLE_SECS 0.001   /* trainer sleep when no step is due (data or warm-up pending) */
#define STOP_NOTIFY_SECS 0.1    /* at the end: stop Params resent this often until actors leave */
#define STATS_EVERY_SECS 0.5    /* stats snapshot and eval rows: fresh enough for `rldt top` */
#define PROGRESS_LOG_SECS 10    /* one progress line in log.txt this often (never per step) */
#define QUARANTINE_RATIO 1000.0 /* outlier rows of a non-finite step: replay_quarantine */

static void *bind_socket(struct learner *l, int type, int port, char *err, size_t errlen)
{
    void *sock = zmq_socket(l->s.zctx, type);
    char ep[CONFIG_STR + 32];
    snprintf(ep, sizeof(ep), "tcp://%s:%d", l->s.cfg.bind_host, port);
    if (!sock) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int linger = type == ZMQ_PUB ? PUB_LINGER_MS : 0;
    int hwm = type == ZMQ_PULL ? DATA_RCVHWM : CONTROL_RCVHWM;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    /* bounded memory per peer: a larger message closes its connection before it is buffered
     * (ZeroMQ checks the announced length), and a peer that does not read holds at most
     * SEND_HWM replies (ROUTER) or params messages (PUB); the rest are dropped */
    int64_t maxmsg = type == ZMQ_PULL     ? (int64_t)DATA_MAX_MSG
                     : type == ZMQ_ROUTER ? (int64_t)CONTROL_MAX_MSG
                                          : SUB_MAX_MSG;
    int sndhwm = SEND_HWM;
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    zmq_setsockopt(sock, ZMQ_SNDHWM, &sndhwm, sizeof(sndhwm));
    if (type == ZMQ_PULL) {
        int buf = DATA_RCVBUF;
        zmq_setsockopt(sock, ZMQ_RCVBUF, &buf, sizeof(buf));
    }
    // [auth] a CURVE server whose handshakes the ZAP handler checks and counts
    int arc = auth_server_socket(sock, &l->auth);
    if (arc == 0 && l->zap)
        arc = auth_zap_watch(l->zap, sock);
    if (arc < 0) {
        snprintf(err, errlen, "CURVE setup of %s: %s", ep, strerror(-arc));
        zmq_close(sock);
        return NULL;
    }
    if (zmq_bind(sock, ep) != 0) {
        snprintf(err, errlen, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

static int open_run_dir(struct learner *l, char *err, size_t errlen)
{
    const struct rl_config *c = &l->s.cfg;
    if (!c->run_dir[0])
        return 0;
    char path[CONFIG_STR + 32];
    snprintf(path, sizeof(path), "%s/checkpoints", c->run_dir);
    int rc = rl_mkdir_p(path);
    if (rc < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(-rc));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/log.txt", c->run_dir);
    l->logcopy = fopen(path, "a");
    if (l->logcopy)
        log_set_copy(l->logcopy);
    // writes a killed process left unfinished (no other learner writes into this run dir)
    snprintf(path, sizeof(path), "%s/checkpoints", c->run_dir);
    checkpoint_clean_tmp(path, "ckpt-");
    checkpoint_clean_tmp(c->run_dir, "replay.rldt");
    snprintf(path, sizeof(path), "%s/config.ini", c->run_dir);
    if (config_save(c, path) < 0)
        log_warn("cannot write %s", path);
    // [tb] a new TensorBoard event file per process start (scalars: metrics rows, evals)
    char e[512];
    if (!(l->tb = tblog_open(c->run_dir, e, sizeof(e))))
        log_warn("no TensorBoard event file: %s", e);
    return 0;
}

// [auth] a failed handshake (unknown key, plain client): counted as a rejection (ZAP thread)
static void on_auth_fail(void *user, const char *reason)
{
    struct learner *l = user;
    shared_reject(&l->s, REJECT_AUTH_FAILED, reason);
}

static int start_threads(struct learner *l, char *err, size_t errlen)
{
    const struct rl_config *c = &l->s.cfg;
    // [auth] keys and the ZAP handler before any CURVE socket binds
    if (auth_server_keys(&l->auth, c, err, errlen) < 0)
        return -EINVAL;
    if (l->auth.curve &&
        !(l->zap = auth_zap_new(l->s.zctx, c->curve_allow, on_auth_fail, l, err, errlen)))
        return -EINVAL;
    l->s.zap = l->zap; /* the control thread checks Hellos against the allow-list entries */
    void *pull = bind_socket(l, ZMQ_PULL, c->data_port, err, errlen);
    if (!pull)
        return -EADDRINUSE;
    void *router = bind_socket(l, ZMQ_ROUTER, c->control_port, err, errlen);
    if (!router) {
        zmq_close(pull);
        return -EADDRINUSE;
    }
    l->pub = bind_socket(l, ZMQ_PUB, c->params_port, err, errlen);
    if (!l->pub) {
        zmq_close(pull);
        zmq_close(router);
        return -EADDRINUSE;
    }
    l->ia = (struct ingest_args){&l->s, pull};
    l->ca = (struct control_args){&l->s, router};
    int rc = pthread_create(&l->ingest_th, NULL, ingest_main, &l->ia);
    l->ingest_on = rc == 0;
    if (!rc)
        rc = pthread_create(&l->control_th, NULL, control_main, &l->ca);
    l->control_on = l->ingest_on && rc == 0;
    if (rc) /* pthread_create returns the error number (EAGAIN, ...) */
        return rl_err(-rc, err, errlen, "cannot start threads: %s", strerror(rc));
    return 0;
}

static int start_stats(struct learner *l, char *err, size_t errlen)
{
    const char *spec = l->s.cfg.stats;
    l->stats = stats_new(l->s.cfg.algo, l->s.cfg.env, l->s.run_epoch);
    if (!l->stats) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    shared_stats_rejected(&l->s, l->stats); /* every reason listed, at 0 until it happens */
    if (!spec[0])
        return 0;
    const char *colon = strrchr(spec, ':');
    char host[CONFIG_STR];
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == spec || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "stats: '%s' is not ADDR:PORT", spec);
        return -EINVAL;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
    char e[256];
    l->statsd = statsd_new(host, (int)port, e, sizeof(e));
    if (!l->statsd) {
        snprintf(err, errlen, "stats socket %s: %s", spec, e);
        return -EADDRINUSE;
    }
    return 0;
}

// a resumed run trains on the replay it had (saved with its checkpoints), not on an empty one
static void resume_replay(struct learner *l)
{
    struct shared *s = &l->s;
    char path[CONFIG_STR + 32], err[512];
    snprintf(path, sizeof(path), "%s/replay.rldt", s->cfg.run_dir);
    if (access(path, F_OK) != 0) {
        log_info("resume: no saved replay (%s): training waits for min_replay=%lld new steps", path,
                 (long long)s->cfg.min_replay);
        return;
    }
    uint64_t at = 0;
    long n = replay_load(s->replay, path, &at, err, sizeof(err));
    if (n < 0)
        log_warn("resume: replay not restored (%s): training waits for min_replay=%lld new steps",
                 err, (long long)s->cfg.min_replay);
    else
        log_info("resume: replay restored: %ld chunk steps saved at env_steps=%llu", n,
                 (unsigned long long)at);
    // a replay saved after the checkpoint holds data the resumed run has not counted: cut it
    long cut = n > 0 && s->resume_trim ? replay_trim(s->replay, s->resume_inserted) : 0;
    if (cut > 0)
        log_info("resume: %ld chunk steps of the replay are newer than the checkpoint: dropped",
                 cut);
    else if (n > 0 && !s->resume_trim && at > atomic_load(&s->env_steps))
        log_warn("resume: the replay (env_steps=%llu) is newer than the checkpoint (%llu), "
                 "which does not say how much to drop: kept as it is",
                 (unsigned long long)at, (unsigned long long)atomic_load(&s->env_steps));
}

struct learner *learner_new(const struct rl_config *c, char *err, size_t errlen)
{
    const struct task_info *task = task_find(c->env);
    const struct algo_ops *ops = algo_find(c->algo);
    if (!task || !ops) {
        snprintf(err, errlen, "unknown %s '%s'", task ? "algorithm" : "task",
                 task ? c->algo : c->env);
        return NULL;
    }
    struct learner *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct shared *s = &l->s;
    s->cfg = *c;
    s->dims = (struct algo_dims){task->obs_dim, task->act_dim, c->chunk, c->chunk * task->act_dim};
    s->run_epoch = (uint64_t)(rl_wall() * 1e6);
    atomic_store(&s->train_start, -1);
    pthread_mutex_init(&s->ret_lock, NULL);
    pthread_mutex_init(&s->params_lock, NULL);
    pthread_mutex_init(&s->eval_lock, NULL);
    l->ops = ops;
    s->cfg_text = config_to_string(c);
    s->actors = actors_new();
    if (c->pixels)
        s->image = (struct wire_image_shape){(uint32_t)c->image_size, (uint32_t)c->image_size, 3};
    s->replay = replay_new_img((long)c->replay_size, s->dims.obs_dim, s->dims.D,
                               wire_image_bytes(&s->image), c->segment_len);
    if (wire_segment_image_bound((uint32_t)c->segment_len, &s->image) > DATA_MAX_MSG / 2) {
        snprintf(err, errlen,
                 "segments of %d steps with %dx%d images exceed the %u-byte message "
                 "limit: lower segment_len or image_size",
                 c->segment_len, c->image_size, c->image_size, DATA_MAX_MSG / 2);
        goto err_destroy;
    }
    if (s->replay)
        replay_set_sparse(s->replay, c->success_threshold, c->stratify);
    if (s->replay && c->pixels)
        log_info("replay: %.0f bytes per chunk step with %dx%d RGB images, %.1f MB in all",
                 replay_bytes_per_step(s->replay), c->image_size, c->image_size,
                 replay_bytes_per_step(s->replay) * (double)c->replay_size / 1e6);
    l->algo = ops->create(c, &s->dims, err, errlen);
    if (!s->cfg_text || !s->actors || !s->replay || !l->algo) {
        if (l->algo || !err[0])
            snprintf(err, errlen, "out of memory");
        goto err_destroy;
    }
    s->policy_kind = algo_policy_kind(ops, l->algo);
    if (c->pixels && !c->collect_only && strcmp(s->policy_kind, "pixflow") != 0) {
        snprintf(err, errlen,
                 "pixels = true trains only a pixel policy (rldt with a pixel base_policy, from "
                 "`rldt pretrain` on images); %s here would learn from the state vector alone: "
                 "set collect_only = true to only collect images",
                 c->algo);
        goto err_destroy;
    }
    int C = ops->chain_len ? ops->chain_len(l->algo) : 0; /* on-policy chains in the replay */
    if (C > 0 && replay_set_chain(s->replay, C) < 0) {
        snprintf(err, errlen, "out of memory");
        goto err_destroy;
    }
    l->nweights = ops->policy_size(l->algo);
    l->weights = malloc(l->nweights * sizeof(float));
    l->pcap = l->nweights * sizeof(float) + 4 * WIRE_DIM_MAX * sizeof(float) + PARAMS_ENVELOPE;
    l->pbuf = malloc(l->pcap);
    if (!l->weights || !l->pbuf) {
        snprintf(err, errlen, "out of memory");
        goto err_destroy;
    }
    if (open_run_dir(l, err, errlen) < 0)
        goto err_destroy;
    if (c->resume && checkpoint_resume(l->ops, l->algo, &s->cfg, s, err, errlen) < 0)
        goto err_destroy;
    if (c->resume && c->run_dir[0])
        resume_replay(l);
    l->replay_saved = rl_now();
    s->zctx = zmq_ctx_new();
    if (!s->zctx || start_stats(l, err, errlen) < 0 || start_threads(l, err, errlen) < 0)
        goto err_destroy;
    log_info("learner up: %s on %s (obs %d, act %d, chunk %d), epoch %llu, sockets %s:%d/%d/%d",
             c->algo, c->env, s->dims.obs_dim, s->dims.act_dim, s->dims.chunk,
             (unsigned long long)s->run_epoch, c->bind_host, c->control_port, c->data_port,
             c->params_port);
    return l;
err_destroy:
    learner_destroy(&l);
    return NULL;
}

// ---- broadcast ---------------------------------------------------------------------------

static void publish(struct learner *l, bool stop)
{
    struct shared *s = &l->s;
    uint64_t version = atomic_load(&s->version) + (stop ? 0 : 1);
    struct wire_msg m = {.type = WIRE_PARAMS};
    struct wire_params *p = &m.params;
    p->run_epoch = s->run_epoch;
    p->version = version;
    p->layout_hash = l->ops->policy_layout(l->algo);
    p->algo = l->ops->name;
    p->stop = stop;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    p->publish_unix_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    if (!stop) {
        l->ops->policy_export(l->algo, l->weights);
        p->n_weights = l->nweights;
        p->weights = l->weights;
        const float *olo, *ohi, *alo, *ahi;
        if (l->ops->bounds(l->algo, &olo, &ohi, &alo, &ahi)) {
            p->obs_dim = (uint32_t)s->dims.obs_dim;
            p->obs_lo = olo, p->obs_hi = ohi;
            p->act_dim = (uint32_t)s->dims.act_dim;
            p->act_lo = alo, p->act_hi = ahi;
        }
    }
    size_t len;
    if (wire_pack(&m, l->pbuf, l->pcap, &len) < 0) {
        log_error("params message does not fit its buffer");
        return;
    }
    /* the current version (and the blob a ParamsRequest gets) are stored before the
     * broadcast: an actor that swaps to these weights at once must not send segments the
     * ingest thread still judges against the previous version */
    struct params_blob *b = malloc(sizeof(*b) + len);
    if (b) {
        atomic_init(&b->refs, 1);
        b->version = version;
        b->len = len;
        memcpy(b->data, l->pbuf, len);
        pthread_mutex_lock(&s->params_lock);
        struct params_blob *old = s->params;
        s->params = b;
        pthread_mutex_unlock(&s->params_lock);
        shared_params_put(old);
    }
    atomic_store(&s->version, version);
    zmq_send(l->pub, l->pbuf, len, ZMQ_DONTWAIT);
    l->published = rl_now();
}

// a failed save: counted, its error kept for /stats and /metrics, logged once per 100
static void save_failed(struct learner *l, uint64_t *count, const char *what, const char *err)
{
    ++*count;
    stats_note(l->stats, what, err);
    uint64_t n = l->checkpoint_failures + l->replay_save_failures;
    if (n == 1 || n % 100 == 0)
        log_error("%s failed (%llu save failure(s) so far): %s", what, (unsigned long long)n, err);
}

// a checkpoint; with it the replay (so a resume trains on the same data) every
// replay_save_secs, and always when `last` (the end of the run, or a stop).
// Returns 0, or a negative errno when the checkpoint could not be written.
static int save_checkpoint(struct learner *l, bool last)
{
    struct shared *s = &l->s;
    if (!s->cfg.run_dir[0])
        return 0;
    char err[512];
    int rc = checkpoint_save(l->ops, l->algo, s, err, sizeof(err));
    if (rc < 0) {
        save_failed(l, &l->checkpoint_failures, "checkpoint", err);
        if (last)
            snprintf(l->final_err, sizeof(l->final_err), "%s", err);
    }
    double now = rl_now();
    if (s->cfg.replay_save_secs <= 0 || (!last && now - l->replay_saved < s->cfg.replay_save_secs))
        return rc;
    char path[CONFIG_STR + 32];
    snprintf(path, sizeof(path), "%s/replay.rldt", s->cfg.run_dir);
    uint64_t steps = atomic_load(&s->env_steps);
    long n = replay_save(s->replay, path, steps, err, sizeof(err));
    if (n < 0) /* the count logged is the file's (ingest goes on while it is written) */
        save_failed(l, &l->replay_save_failures, "replay_save", err);
    else
        log_info("replay saved: %ld chunk steps to %s (%.1f s)", n, path, rl_now() - now);
    l->replay_saved = now;
    return rc;
}

// ---- the trainer loop --------------------------------------------------------------------

// may training run now, and is another step due? (starts training when the schedule says so)
static bool step_due(struct learner *l)
{
    struct shared *s = &l->s;
    struct schedule sc;
    shared_schedule(s, &sc);
    if (sc.start) {
        atomic_store(&s->train_start_updates, atomic_load(&s->updates) + atomic_load(&s->skipped));
        atomic_store(&s->train_start, (int64_t)atomic_load(&s->chunk_steps));
        log_info("training starts: %ld chunk steps in replay", replay_size(s->replay));
        shared_schedule(s, &sc);
    }
    return sc.step;
}

// a non-finite step: quarantine the poison among the rows it read (replay_quarantine), count
// it (quarantined_segments, quarantined_steps); logged for the first and every 100th time
static void quarantine(struct learner *l, uint64_t nan_steps)
{
    const int64_t *slots;
    int n = l->ops->blame ? l->ops->blame(l->algo, &slots) : 0;
    struct replay_quarantined q = {0};
    if (n <= 0 || replay_quarantine(l->s.replay, slots, n, QUARANTINE_RATIO, &q) < 0)
        return;
    l->quarantined_segments += (uint64_t)q.segments;
    l->quarantined_steps += (uint64_t)q.steps;
    if (nan_steps == 1 || nan_steps % 100 == 0)
        log_warn("non-finite step %llu: %ld segment(s) (%ld chunk steps) of the %d rows it read "
                 "quarantined (%ld outlier rows)",
                 (unsigned long long)nan_steps, q.segments, q.steps, n, q.outliers);
}

static int train_once(struct learner *l)
{
    struct shared *s = &l->s;
    int rc = l->ops->train_step(l->algo, s->replay, &l->rep);
    if (rc == -EDOM) {
        // skipped, but it counts for the schedule: ingest goes on; the poison leaves the replay
        uint64_t nan_steps = atomic_fetch_add(&s->skipped, 1) + 1;
        if (nan_steps == 1)
            log_warn("non-finite loss: step skipped (counted as nan_steps; the schedule moves on)");
        quarantine(l, nan_steps);
        return 0;
    }
    if (rc < 0)
        return rc;
    uint64_t u = atomic_fetch_add(&s->updates, 1) + 1;
    if (u == 1 || u % (uint64_t)s->cfg.publish_every == 0)
        publish(l, false);
    return 0;
}

static void progress_log(struct learner *l, double *last, uint64_t *last_steps, double t0)
{
    struct shared *s = &l->s;
    double now = rl_now();
    uint64_t steps = atomic_load(&s->env_steps);
    int n;
    double ret = shared_recent_return(s, &n);
    log_info("env_steps=%llu sps=%.0f updates=%llu version=%llu replay=%ld episodes=%llu "
             "return=%.1f elapsed=%.0fs",
             (unsigned long long)steps, (double)(steps - *last_steps) / (now - *last),
             (unsigned long long)atomic_load(&s->updates),
             (unsigned long long)atomic_load(&s->version), replay_size(s->replay),
             (unsigned long long)atomic_load(&s->episodes), ret, now - t0);
    *last = now;
    *last_steps = steps;
}

// the run is complete: final checkpoint, then tell the actors to exit. Returns the
// checkpoint's result.
static int finish(struct learner *l)
{
    struct shared *s = &l->s;
    atomic_store(&s->finished, true);
    learner_report_stats(l);
    int rc = save_checkpoint(l, true);
    // tell actors: a stop Params on PUB, and the stop flag in every heartbeat ack meanwhile
    double until = rl_now() + RL_MIN(2.0, 2 * s->cfg.heartbeat_secs + 0.5);
    while (rl_now() < until) {
        publish(l, true);
        int alive;
        actors_rows(s->actors, NULL, 0, &alive);
        if (alive == 0)
            break;
        rl_sleep(STOP_NOTIFY_SECS);
    }
    return rc;
}

int learner_run(struct learner *l, volatile sig_atomic_t *stop)
{
    struct shared *s = &l->s;
    const struct rl_config *c = &s->cfg;
    /* wall_s in metrics.csv and eval.csv continues across resumes, from the checkpoint's rows */
    double prior = 0;
    if (c->resume && c->run_dir[0]) {
        uint64_t at = atomic_load(&s->env_steps);
        prior = checkpoint_trim_csv(c->run_dir, "metrics.csv", at);
        checkpoint_trim_csv(c->run_dir, "eval.csv", at);
    }
    double t0 = rl_now() - prior;
    double last_stats = 0, last_metrics = rl_now(), last_ckpt = last_metrics,
           last_log = last_metrics;
    uint64_t last_steps = atomic_load(&s->env_steps);
    uint64_t ckpt_updates = atomic_load(&s->updates);
    int rc = 0;
    if (atomic_load(&s->version) > 0 || c->warmup_steps == 0)
        publish(l, false); /* resumed, or no random warm-up: actors act with these weights */
    while (!*stop) {
        if (atomic_load(&s->env_steps) >= (uint64_t)c->max_env_steps) {
            log_info("reached max_env_steps=%lld", (long long)c->max_env_steps);
            break;
        }
        bool warm = atomic_load(&s->env_steps) >= (uint64_t)c->warmup_steps;
        if (warm && step_due(l)) {
            rc = train_once(l);
            if (rc < 0 && rc != -EAGAIN)
                break;
            if (rc == -EAGAIN)
                rl_sleep(TRAIN_IDLE_SECS); /* the algorithm waits for data (an on-policy batch) */
            rc = 0;
        } else {
            rl_sleep(TRAIN_IDLE_SECS);
        }
        double now = rl_now();
        if (now - last_stats > STATS_EVERY_SECS) {
            learner_report_stats(l);
            learner_report_eval(l, t0);
            last_stats = now;
        }
        if (now - last_metrics > c->metrics_secs && atomic_load(&s->updates) > 0) {
            learner_report_metrics(l, t0);
            last_metrics = now;
        }
        if (now - last_log > PROGRESS_LOG_SECS)
            progress_log(l, &last_log, &last_steps, t0);
        if (c->publish_secs > 0 && now - l->published >= c->publish_secs)
            publish(l, false);
        if (now - last_ckpt > c->checkpoint_secs && atomic_load(&s->updates) != ckpt_updates) {
            save_checkpoint(l, false);
            ckpt_updates = atomic_load(&s->updates);
            last_ckpt = now;
        }
    }
    if (atomic_load(&s->updates) > 0)
        learner_report_metrics(l, t0);
    int final;
    if (*stop) {
        // interrupted, not finished: actors keep waiting for a learner to resume the run
        log_info("stopping on signal: final checkpoint");
        final = save_checkpoint(l, true);
    } else {
        final = finish(l);
    }
    if (final < 0) { /* the run's state is lost: say so, and fail */
        learner_report_stats(l);
        log_error("the final checkpoint could not be written: %s", l->final_err);
        return rc < 0 ? rc : final;
    }
    return rc;
}

void learner_destroy(struct learner **pl)
{
    struct learner *l = pl ? *pl : NULL;
    if (!l)
        return;
    struct shared *s = &l->s;
    atomic_store(&s->quit, true);
    if (l->ingest_on)
        pthread_join(l->ingest_th, NULL);
    if (l->control_on)
        pthread_join(l->control_th, NULL);
    if (l->pub)
        zmq_close(l->pub);
    auth_zap_destroy(&l->zap); /* [auth] */
    if (s->zctx)
        zmq_ctx_term(s->zctx);
    statsd_destroy(&l->statsd);
    stats_destroy(&l->stats);
    if (l->algo)
        l->ops->destroy(l->algo);
    replay_destroy(&s->replay);
    actors_destroy(&s->actors);
    shared_params_put(s->params);
    free((void *)s->cfg_text);
    free(l->weights);
    free(l->pbuf);
    if (l->metrics)
        fclose(l->metrics);
    tblog_close(&l->tb); /* [tb] */
    if (l->logcopy) {
        log_set_copy(NULL);
        fclose(l->logcopy);
    }
    pthread_mutex_destroy(&s->ret_lock);
    pthread_mutex_destroy(&s->params_lock);
    pthread_mutex_destroy(&s->eval_lock);
    free(l);
    *pl = NULL;
}
