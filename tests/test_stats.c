/*
 * test_stats.c — learner/stats: every documented JSON field is present with the right value and
 * type, the Prometheus text passes a line-by-line validator of the 0.0.4 text format (which is
 * itself checked against broken inputs), rates, windows, name validation, table limits, snapshot
 * immutability and refcounting, concurrent writers against a renderer, and the learner's one list
 * of rejection reasons shown alike in both formats.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/version.h"
#include "learner/shared.h"
#include "learner/stats.h"
#include "tests/harness.h"

// ---- a Prometheus text format (0.0.4) validator -------------------------------------------

#define MAXSERIES 4096

struct prom_check {
    char why[256];
    int nseries;
    char *series[MAXSERIES]; // "name{labels}" seen
    char family[128];        // the current TYPE'd family
    char ftype[16];
    char helped[128]; // the last HELP'd name
};

static bool is_name(const char *s, size_t n, bool colon)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static size_t name_len(const char *s)
{
    size_t n = 0;
    while (s[n] && s[n] != ' ' && s[n] != '{' && s[n] != '\n')
        n++;
    return n;
}

// "# HELP name text" / "# TYPE name type"
static bool check_comment(struct prom_check *pc, const char *line)
{
    bool help = !strncmp(line, "# HELP ", 7);
    bool type = !strncmp(line, "# TYPE ", 7);
    if (!help && !type)
        return true; // other comments are allowed
    const char *name = line + 7;
    size_t n = name_len(name);
    if (!is_name(name, n, true) || name[n] != ' ' || n >= sizeof(pc->family)) {
        snprintf(pc->why, sizeof(pc->why), "bad metric name in '%s'", line);
        return false;
    }
    if (help) {
        memcpy(pc->helped, name, n);
        pc->helped[n] = '\0';
        return true;
    }
    const char *t = name + n + 1;
    static const char *types[] = {"counter", "gauge", "untyped", "summary", "histogram"};
    bool known = false;
    for (size_t i = 0; i < RL_ARRAY_LEN(types); i++)
        known |= !strcmp(t, types[i]);
    if (!known || strncmp(pc->helped, name, n) || pc->helped[n]) {
        snprintf(pc->why, sizeof(pc->why), "bad type or TYPE without HELP: '%s'", line);
        return false;
    }
    for (int i = 0; i < pc->nseries; i++)
        if (!strncmp(pc->series[i], name, n) && (!pc->series[i][n] || pc->series[i][n] == '{')) {
            snprintf(pc->why, sizeof(pc->why), "TYPE after samples: '%s'", line);
            return false;
        }
    memcpy(pc->family, name, n);
    pc->family[n] = '\0';
    snprintf(pc->ftype, sizeof(pc->ftype), "%s", t);
    return true;
}

// {k="v",...}; returns the end (after '}') or NULL
static const char *check_labels(const char *p)
{
    if (*p != '{')
        return p;
    p++;
    while (*p != '}') {
        size_t n = 0;
        while (p[n] && p[n] != '=')
            n++;
        if (!is_name(p, n, false) || p[n] != '=' || p[n + 1] != '"')
            return NULL;
        p += n + 2;
        while (*p != '"') {
            if (!*p || *p == '\n')
                return NULL;
            if (*p == '\\' && p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                return NULL;
            p += *p == '\\' ? 2 : 1;
        }
        p++;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p + 1;
}

static bool check_sample(struct prom_check *pc, const char *line)
{
    size_t n = name_len(line);
    // ours are rldt_*; process_* are the standard process metrics
    if (!is_name(line, n, true) || (strncmp(line, "rldt_", 5) && strncmp(line, "process_", 8))) {
        snprintf(pc->why, sizeof(pc->why), "bad or unprefixed name: '%s'", line);
        return false;
    }
    if (strncmp(line, pc->family, n) || pc->family[n]) {
        snprintf(pc->why, sizeof(pc->why), "sample outside its TYPE'd family: '%s'", line);
        return false;
    }
    bool counter = !strcmp(pc->ftype, "counter");
    if (counter && (n < 6 || strncmp(line + n - 6, "_total", 6))) {
        snprintf(pc->why, sizeof(pc->why), "counter without _total: '%s'", line);
        return false;
    }
    const char *end = check_labels(line + n);
    if (!end || *end != ' ') {
        snprintf(pc->why, sizeof(pc->why), "bad labels: '%s'", line);
        return false;
    }
    char *vend;
    double v = strtod(end + 1, &vend);
    if (vend == end + 1 || *vend || (counter && !(v >= 0))) {
        snprintf(pc->why, sizeof(pc->why), "bad value: '%s'", line);
        return false;
    }
    size_t slen = (size_t)(end - line);
    for (int i = 0; i < pc->nseries; i++)
        if (strlen(pc->series[i]) == slen && !strncmp(pc->series[i], line, slen)) {
            snprintf(pc->why, sizeof(pc->why), "duplicate series: '%s'", line);
            return false;
        }
    if (pc->nseries < MAXSERIES)
        pc->series[pc->nseries++] = strndup(line, slen);
    return true;
}

// true when text is valid; otherwise the reason in pc->why. Frees its own memory.
static bool prom_valid(const char *text, struct prom_check *pc)
{
    memset(pc, 0, sizeof(*pc));
    bool ok = true;
    size_t len = strlen(text);
    if (len == 0 || text[len - 1] != '\n') {
        snprintf(pc->why, sizeof(pc->why), "empty or no final newline");
        ok = false;
    }
    char *copy = strdup(text);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); ok && line; line = strtok_r(NULL, "\n", &save))
        ok = line[0] == '#' ? check_comment(pc, line) : check_sample(pc, line);
    if (ok && strstr(text, "\n\n")) {
        snprintf(pc->why, sizeof(pc->why), "blank line");
        ok = false;
    }
    free(copy);
    for (int i = 0; i < pc->nseries; i++)
        free(pc->series[i]);
    return ok;
}

static void test_validator_rejects(void)
{
    static const char *bad[] = {
        "rldt_x 1\n",                                                  // no TYPE
        "# HELP rldt_x h\n# TYPE rldt_x gauge\nrldt_x one\n",          // value
        "# HELP rldt_x h\n# TYPE rldt_x counter\nrldt_x 1\n",          // counter without _total
        "# HELP rldt_x h\n# TYPE rldt_x gauge\nrldt_x{a=\"b} 1\n",     // unterminated label
        "# HELP rldt_x h\n# TYPE rldt_x gauge\nrldt_x{a=\"\\q\"} 1\n", // bad escape
        "# HELP rldt_x h\n# TYPE rldt_x gauge\nrldt_x 1\nrldt_x 2\n",  // duplicate
        "# HELP 1x h\n# TYPE 1x gauge\n1x 1\n",                        // name
        "# HELP rldt_x h\n# TYPE rldt_x gauge\nrldt_x 1",              // no newline
        "# HELP rldt_x h\n# TYPE rldt_x gauge\nrldt_y 1\n",            // family
        "# HELP x h\n# TYPE x gauge\nx 1\n",                           // prefix
    };
    struct prom_check pc;
    for (size_t i = 0; i < RL_ARRAY_LEN(bad); i++)
        T_CHECK_MSG(!prom_valid(bad[i], &pc), "accepted bad text #%zu", i);
    T_CHECK(prom_valid("# HELP rldt_x h\n# TYPE rldt_x gauge\nrldt_x{a=\"q\\\"\\\\\"} NaN\n", &pc));
}

// ---- a populated collector ---------------------------------------------------------------

static struct stats *populated(void)
{
    struct stats *s = stats_new("rldt", "pendulum\x1b[2J", 7);
    RL_ASSERT(s);
    stats_set_learner(
        s, &(struct stats_learner){.replay_size = 500, .replay_cap = 1000, .version = 10});
    T_EQ_INT(stats_set(s, "critic_loss", 0.31), 0);
    T_EQ_INT(stats_set(s, "q_mean", -4.5), 0);
    T_EQ_INT(stats_set(s, "grad_norm", NAN), 0);
    T_EQ_INT(stats_set(s, "critic_loss", 0.25), 0); // update keeps the order
    T_EQ_INT(stats_set_count(s, "nan_steps", 2), 0);
    T_EQ_INT(stats_set_rejected(s, "bad_size", 3), 0);
    T_EQ_INT(stats_set_rejected(s, "stale_policy", 0), 0); // listed at 0
    T_EQ_INT(stats_set_rejected(s, "wrong_type", 1), 0);
    double now = rl_now();
    // the owner's rows, in its order (the stats module sorts by id)
    struct stats_actor rows[] = {
        {5, "host \"a\\b\"\n", now - 1.5, 8, 150, 2},
        {2, "host-b/0", now - 0.5, 12, 30, 1},
        {9, NULL, -1, 9, 20, 1}, // no heartbeat yet, no name
    };
    T_EQ_INT(stats_set_actors(s, rows, 3), 3);
    stats_set_totals(s, &(struct stats_totals){200, 4, 2, 42, 2.0, 2});
    T_EQ_INT(stats_note(s, "checkpoint", "disk full\n\"x\""), 0);
    T_EQ_INT(stats_note(s, "bad name", "x"), -EINVAL);
    return s;
}

static json_t *render_doc(struct stats *s, struct stats_snap **psn)
{
    *psn = stats_render(s, rl_now());
    T_CHECK(*psn != NULL);
    if (!*psn)
        return NULL;
    size_t len;
    const char *text = stats_snap_json(*psn, &len);
    T_EQ_INT(len, strlen(text));
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    T_CHECK_MSG(doc != NULL, "%s", err.text);
    return doc;
}

static double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    T_CHECK_MSG(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

static void test_json_fields(void)
{
    struct stats *s = populated();
    struct stats_snap *sn;
    json_t *doc = render_doc(s, &sn);
    if (!doc)
        goto out;
    T_EQ_INT(num(doc, "version"), STATS_JSON_VERSION);
    T_EQ_STR(json_string_value(json_object_get(doc, "algo")), "rldt");
    T_EQ_STR(json_string_value(json_object_get(doc, "task")), "pendulum?[2J");
    T_EQ_INT(num(doc, "run_epoch"), 7);
    T_CHECK(num(doc, "uptime_s") >= 0 && num(doc, "uptime_s") < 10);
    T_CHECK(json_is_false(json_object_get(doc, "finished")));
    T_EQ_INT(num(doc, "policy_version"), 10);
    T_EQ_INT(num(doc, "env_steps"), 200);
    T_CHECK(num(doc, "env_steps_per_s") >= 0);
    T_EQ_INT(num(doc, "updates"), 42);
    T_CHECK(num(doc, "updates_per_s") >= 0);
    T_EQ_INT(num(doc, "segments"), 4);
    json_t *replay = json_object_get(doc, "replay");
    T_EQ_INT(num(replay, "size"), 500);
    T_EQ_INT(num(replay, "capacity"), 1000);
    T_EQ_INT(num(doc, "episodes"), 2);
    T_NEAR(num(doc, "recent_return"), 2.0, 1e-12);
    T_EQ_INT(num(doc, "recent_episodes"), 2);
    T_EQ_INT(num(doc, "policy_lag_max"), 2); // 10 - 8
    T_EQ_INT(num(doc, "rejected_total"), 4);

    // rejected: the reasons in the order they were first named, 0 included
    static const char *reasons[] = {"bad_size", "stale_policy", "wrong_type"};
    json_t *rej = json_object_get(doc, "rejected");
    T_EQ_INT(json_object_size(rej), RL_ARRAY_LEN(reasons));
    void *it = json_object_iter(rej);
    for (size_t i = 0; i < RL_ARRAY_LEN(reasons) && it; i++, it = json_object_iter_next(rej, it))
        T_EQ_STR(json_object_iter_key(it), reasons[i]);
    T_EQ_INT(num(rej, "bad_size"), 3);
    T_EQ_INT(num(rej, "stale_policy"), 0);
    T_EQ_INT(num(json_object_get(doc, "counters"), "nan_steps"), 2);
    T_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "last_error"), "checkpoint")),
             "disk full?\"x\"");

    // scalars in insertion order, NaN as null
    json_t *sc = json_object_get(doc, "scalars");
    it = json_object_iter(sc);
    T_EQ_STR(it ? json_object_iter_key(it) : NULL, "critic_loss");
    T_NEAR(num(sc, "critic_loss"), 0.25, 1e-12);
    T_NEAR(num(sc, "q_mean"), -4.5, 1e-12);
    T_CHECK(json_is_null(json_object_get(sc, "grad_norm")));

    // actors sorted by id, every column
    json_t *actors = json_object_get(doc, "actors");
    T_EQ_INT(json_array_size(actors), 3);
    static const int ids[] = {2, 5, 9};
    static const char *cols[] = {"id",         "name",      "heartbeat_age_s", "policy_version",
                                 "policy_lag", "env_steps", "steps_per_s",     "segments"};
    for (size_t i = 0; i < json_array_size(actors) && i < 3; i++) {
        json_t *a = json_array_get(actors, i);
        T_EQ_INT(num(a, "id"), ids[i]);
        T_EQ_INT(json_object_size(a), RL_ARRAY_LEN(cols));
        for (size_t c = 0; c < RL_ARRAY_LEN(cols); c++)
            T_CHECK_MSG(json_object_get(a, cols[c]), "actor %zu has no %s", i, cols[c]);
    }
    json_t *a5 = json_array_get(actors, 1);
    T_EQ_STR(json_string_value(json_object_get(a5, "name")), "host \"a\\b\"?");
    T_NEAR(num(a5, "heartbeat_age_s"), 1.5, 0.5);
    T_EQ_INT(num(a5, "policy_version"), 8);
    T_EQ_INT(num(a5, "policy_lag"), 2);
    T_EQ_INT(num(a5, "env_steps"), 150);
    T_EQ_INT(num(a5, "segments"), 2);
    T_EQ_INT(num(json_array_get(actors, 0), "policy_lag"), 0); // ahead of the learner: 0
    T_CHECK(json_is_null(json_object_get(json_array_get(actors, 2), "heartbeat_age_s")));
    T_EQ_STR(json_string_value(json_object_get(json_array_get(actors, 2), "name")), "?");

    stats_set_learner(s, &(struct stats_learner){.version = 10, .finished = true});
    json_decref(doc);
    stats_snap_unref(&sn);
    doc = render_doc(s, &sn);
    T_CHECK(doc && json_is_true(json_object_get(doc, "finished")));
    json_decref(doc);
out:
    stats_snap_unref(&sn);
    stats_destroy(&s);
    T_CHECK(s == NULL);
}

static void test_prometheus(void)
{
    struct stats *s = populated();
    struct stats_snap *sn = stats_render(s, rl_now());
    T_CHECK(sn != NULL);
    if (!sn)
        goto out;
    size_t len;
    const char *text = stats_snap_prom(sn, &len);
    T_EQ_INT(len, strlen(text));
    struct prom_check pc;
    T_CHECK_MSG(prom_valid(text, &pc), "%s", pc.why);
    static const char *want[] = {
        "rldt_env_steps_total 200\n",
        "rldt_updates_total 42\n",
        "rldt_replay_size 500\n",
        "rldt_replay_cap 1000\n",
        "rldt_episodes_total 2\n",
        "rldt_recent_return 2\n",
        "rldt_policy_version 10\n",
        "rldt_run_epoch 7\n",
        "rldt_finished 0\n",
        "rldt_run_info{algo=\"rldt\",task=\"pendulum?[2J\"} 1\n",
        "rldt_rejected_messages_total{reason=\"bad_size\"} 3\n",
        "rldt_rejected_messages_total{reason=\"wrong_type\"} 1\n",
        "rldt_events_total{event=\"nan_steps\"} 2\n",
        "rldt_scalar_critic_loss 0.25\n",
        "rldt_scalar_grad_norm NaN\n",
        "rldt_actor_info{actor=\"5\",name=\"host \\\"a\\\\b\\\"?\"} 1\n",
        "rldt_actor_env_steps_total{actor=\"5\"} 150\n",
        "rldt_actor_policy_lag{actor=\"5\"} 2\n",
        "rldt_actor_segments_total{actor=\"9\"} 1\n",
        "# TYPE rldt_env_steps_total counter\n",
        "# TYPE rldt_actor_heartbeat_age_seconds gauge\n",
        "# HELP rldt_scalar_critic_loss Critic loss of the latest update.\n",
        "# TYPE rldt_build_info gauge\n",
        "rldt_build_info{version=\"" RLDT_VERSION "\"} 1\n",
        "# TYPE process_cpu_seconds_total counter\n",
        "# TYPE process_resident_memory_bytes gauge\n",
    };
    for (size_t i = 0; i < RL_ARRAY_LEN(want); i++)
        T_CHECK_MSG(strstr(text, want[i]), "missing: %s", want[i]);
out:
    stats_snap_unref(&sn);
    stats_destroy(&s);
}

static void test_empty_prometheus(void)
{
    struct stats *s = stats_new(NULL, NULL, 0);
    T_CHECK(s != NULL);
    if (!s)
        return;
    struct stats_snap *sn = stats_render(s, rl_now());
    struct prom_check pc;
    T_CHECK_MSG(sn && prom_valid(stats_snap_prom(sn, NULL), &pc), "%s", pc.why);
    T_CHECK(sn && strstr(stats_snap_prom(sn, NULL), "rldt_recent_return NaN\n"));
    T_CHECK(sn && strstr(stats_snap_json(sn, NULL), "\"recent_return\":null"));
    stats_snap_unref(&sn);
    stats_destroy(&s);
}

static void test_rates(void)
{
    struct stats *s = stats_new("a", "b", 1);
    double t = rl_now();
    stats_set_actors(s, &(struct stats_actor){1, "x", t, 0, 0, 0}, 1);
    struct stats_snap *sn = stats_render(s, t); // starts the meters
    stats_snap_unref(&sn);
    stats_set_actors(s, &(struct stats_actor){1, "x", t, 0, 1000, 1}, 1); // meter carries over
    stats_set_totals(s, &(struct stats_totals){.env_steps = 1000, .segments = 1, .updates = 100});
    sn = stats_render(s, t + 2);
    json_error_t err;
    json_t *doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, &err) : NULL;
    T_CHECK(doc != NULL);
    if (doc) {
        T_NEAR(num(doc, "env_steps_per_s"), 500, 5);
        T_NEAR(num(doc, "updates_per_s"), 50, 0.5);
        T_NEAR(num(json_array_get(json_object_get(doc, "actors"), 0), "steps_per_s"), 500, 1e-9);
        T_NEAR(num(doc, "uptime_s"), 2, 0.5);
    }
    json_decref(doc);
    stats_snap_unref(&sn);
    // within the window the rate holds its last value
    stats_set_totals(s, &(struct stats_totals){.env_steps = 1001000, .updates = 100});
    sn = stats_render(s, t + 2.5);
    doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, &err) : NULL;
    T_CHECK(doc && fabs(num(doc, "env_steps_per_s") - 500) < 5);
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_destroy(&s);
}

static void test_return_window(void)
{
    // the recent return is the owner's: shown as given, null when it covers no episode
    struct stats *s = stats_new("a", "b", 1);
    stats_set_totals(s, &(struct stats_totals){.episodes = 150, .recent_return = 5});
    struct stats_snap *sn = stats_render(s, rl_now());
    json_t *doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, NULL) : NULL;
    T_CHECK(doc && json_is_null(json_object_get(doc, "recent_return")));
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_set_totals(
        s, &(struct stats_totals){.episodes = 150, .recent_return = 99.5, .recent_episodes = 100});
    sn = stats_render(s, rl_now());
    doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, NULL) : NULL;
    T_CHECK(doc != NULL);
    if (doc) {
        T_EQ_INT(num(doc, "episodes"), 150);
        T_EQ_INT(num(doc, "recent_episodes"), 100);
        T_NEAR(num(doc, "recent_return"), 99.5, 1e-9);
    }
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_destroy(&s);
}

static void test_restore_totals(void)
{
    // totals from a checkpoint: no rate spike, no recent return made of empty slots
    struct stats *s = stats_new("a", "b", 2);
    double t = rl_now();
    stats_set_totals(s, &(struct stats_totals){100000, 500, 70, 9000, NAN, 0});
    struct stats_snap *sn = stats_render(s, t); // the meters start from the restored totals
    json_t *doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, NULL) : NULL;
    T_CHECK(doc && num(doc, "env_steps_per_s") == 0 && num(doc, "updates_per_s") == 0);
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_set_totals(s, &(struct stats_totals){100200, 501, 70, 9000, NAN, 0});
    sn = stats_render(s, t + 2);
    doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, NULL) : NULL;
    T_CHECK(doc != NULL);
    if (doc) {
        T_EQ_INT(num(doc, "env_steps"), 100200);
        T_EQ_INT(num(doc, "segments"), 501);
        T_EQ_INT(num(doc, "episodes"), 70);
        T_EQ_INT(num(doc, "updates"), 9000);
        T_NEAR(num(doc, "env_steps_per_s"), 100, 2);
        T_NEAR(num(doc, "updates_per_s"), 0, 1e-9);
        T_EQ_INT(num(doc, "recent_episodes"), 0);
        T_CHECK(json_is_null(json_object_get(doc, "recent_return")));
    }
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_set_totals(s, &(struct stats_totals){10, 1, 71, 1, 5, 1}); // set back
    sn = stats_render(s, t + 4);
    doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, NULL) : NULL;
    T_CHECK(doc != NULL);
    if (doc) { // rates restart at 0, never wrap
        T_EQ_INT(num(doc, "recent_episodes"), 1);
        T_NEAR(num(doc, "recent_return"), 5, 1e-12);
        T_NEAR(num(doc, "env_steps_per_s"), 0, 1e-9);
        T_NEAR(num(doc, "updates_per_s"), 0, 1e-9);
    }
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_destroy(&s);
}

static void test_names_and_limits(void)
{
    struct stats *s = stats_new("a", "b", 1);
    char longname[STATS_NAME_MAX + 1];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    T_EQ_INT(stats_set(s, "", 1), -EINVAL);
    T_EQ_INT(stats_set(s, NULL, 1), -EINVAL);
    T_EQ_INT(stats_set(s, "1abc", 1), -EINVAL);
    T_EQ_INT(stats_set(s, "a-b", 1), -EINVAL);
    T_EQ_INT(stats_set(s, "a b", 1), -EINVAL);
    T_EQ_INT(stats_set(s, longname, 1), -EINVAL);
    T_EQ_INT(stats_set_count(s, "x\"y", 1), -EINVAL);
    T_EQ_INT(stats_set_rejected(s, "bad\nreason", 1), -EINVAL);
    T_EQ_INT(stats_set(s, "_ok9", 1), 0);
    int rc = 0;
    for (int i = 1; i < STATS_MAX_SCALARS && rc == 0; i++) {
        char name[32];
        snprintf(name, sizeof(name), "s%d", i);
        rc = stats_set(s, name, i);
    }
    T_EQ_INT(rc, 0);
    T_EQ_INT(stats_set(s, "one_too_many", 1), -ENOSPC);
    T_EQ_INT(stats_set(s, "_ok9", 2), 0); // existing names still update

    static struct stats_actor rows[STATS_MAX_ACTORS + 1];
    for (uint32_t i = 0; i < STATS_MAX_ACTORS; i++)
        rows[i] = (struct stats_actor){5000 - i, "a", rl_now(), 0, 0, 0};
    T_EQ_INT(stats_set_actors(s, rows, STATS_MAX_ACTORS + 1), STATS_MAX_ACTORS); // one too many
    stats_set_totals(s, &(struct stats_totals){.env_steps = 20});
    struct stats_snap *sn = stats_render(s, rl_now());
    json_t *doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, NULL) : NULL;
    T_CHECK(doc != NULL);
    if (doc) {
        json_t *actors = json_object_get(doc, "actors");
        T_EQ_INT(json_array_size(actors), STATS_MAX_ACTORS);
        double prev = -1;
        bool sorted = true;
        for (size_t i = 0; i < json_array_size(actors); i++) {
            double id = json_number_value(json_object_get(json_array_get(actors, i), "id"));
            sorted &= id > prev;
            prev = id;
        }
        T_CHECK(sorted);
        T_EQ_INT(prev, 5000);
        T_EQ_INT(num(doc, "env_steps"), 20);
        T_EQ_INT(json_object_size(json_object_get(doc, "scalars")), STATS_MAX_SCALARS);
    }
    struct prom_check pc;
    T_CHECK_MSG(sn && prom_valid(stats_snap_prom(sn, NULL), &pc), "%s", pc.why);
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_destroy(&s);
    stats_destroy(&s); // NULL: no-op
    stats_destroy(NULL);
}

static void test_snapshot_refs(void)
{
    struct stats *s = stats_new("a", "b", 1);
    stats_set_totals(s, &(struct stats_totals){.updates = 1});
    struct stats_snap *a = stats_render(s, rl_now());
    T_EQ_INT(stats_snap_refs(a), 1);
    char *before = strdup(stats_snap_json(a, NULL));
    struct stats_snap *b = stats_snap_ref(a);
    T_CHECK(a == b);
    T_EQ_INT(stats_snap_refs(a), 2);
    stats_snap_unref(&b);
    T_CHECK(b == NULL);
    T_EQ_INT(stats_snap_refs(a), 1);

    // later changes and renders leave an earlier snapshot untouched
    stats_set_totals(s, &(struct stats_totals){.updates = 100});
    stats_set(s, "loss", 1);
    struct stats_snap *c = stats_render(s, rl_now());
    T_CHECK(c != a);
    T_EQ_STR(stats_snap_json(a, NULL), before);
    T_CHECK(strstr(stats_snap_json(a, NULL), "\"updates\":1,"));
    T_CHECK(strstr(stats_snap_json(c, NULL), "\"updates\":100,"));
    stats_destroy(&s);
    T_CHECK(strstr(stats_snap_json(c, NULL), "\"loss\":1")); // outlives the collector

    struct stats_snap *d = stats_snap_new("{}", 2, "x\n", 2);
    size_t jl;
    size_t pl;
    T_EQ_STR(stats_snap_json(d, &jl), "{}");
    T_EQ_STR(stats_snap_prom(d, &pl), "x\n");
    T_EQ_INT(jl, 2);
    T_EQ_INT(pl, 2);
    stats_snap_unref(&d);
    stats_snap_unref(&d); // NULL: no-op
    stats_snap_unref(NULL);
    free(before);
    stats_snap_unref(&a);
    stats_snap_unref(&c);
}

// ---- concurrency -------------------------------------------------------------------------

#define WRITES 20000

struct writer_arg {
    struct stats *s;
    uint32_t id;
};

static void *writer(void *p)
{
    struct writer_arg *w = p;
    // writer 1 sets the totals (rising), writer 2 the actor table; both set a reject count
    for (int i = 1; i <= WRITES; i++) {
        if (w->id == 1) {
            uint64_t n = (uint64_t)i * 2;
            stats_set_totals(w->s, &(struct stats_totals){.env_steps = n, .segments = n});
        } else if (i % 100 == 0 || i == WRITES) {
            struct stats_actor rows[2] = {{1, "w", rl_now(), 0, (uint64_t)i, 0},
                                          {2, "w", rl_now(), 0, (uint64_t)i, 0}};
            stats_set_actors(w->s, rows, 2);
        }
        stats_set(w->s, w->id == 1 ? "w1" : "w2", i);
        stats_set_rejected(w->s, w->id == 1 ? "bad_size" : "wrong_type", (uint64_t)i);
    }
    return NULL;
}

struct refs_arg {
    struct stats_snap *sn;
};

static void *ref_churn(void *p)
{
    struct refs_arg *r = p;
    for (int i = 0; i < 100000; i++) {
        struct stats_snap *mine = stats_snap_ref(r->sn);
        stats_snap_unref(&mine);
    }
    return NULL;
}

static void test_threads(void)
{
    struct stats *s = stats_new("a", "b", 1);
    struct writer_arg wa[2] = {{s, 1}, {s, 2}};
    pthread_t th[4];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, writer, &wa[i]);
    double prev = -1;
    bool monotonic = true;
    bool parsed = true;
    bool consistent = true;
    for (int i = 0; i < 200; i++) {
        struct stats_snap *sn = stats_render(s, rl_now());
        json_t *doc = sn ? json_loads(stats_snap_json(sn, NULL), 0, NULL) : NULL;
        parsed &= doc != NULL;
        double steps = json_number_value(json_object_get(doc, "env_steps"));
        double segs = json_number_value(json_object_get(doc, "segments"));
        monotonic &= steps >= prev;
        // one lock per call: a snapshot never sees half of a stats_set_totals
        consistent &= steps == segs;
        prev = steps;
        json_decref(doc);
        stats_snap_unref(&sn);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    T_CHECK(parsed);
    T_CHECK(monotonic);
    T_CHECK(consistent);

    struct refs_arg ra = {stats_render(s, rl_now())};
    for (int i = 2; i < 4; i++)
        pthread_create(&th[i], NULL, ref_churn, &ra);
    for (int i = 2; i < 4; i++)
        pthread_join(th[i], NULL);
    T_EQ_INT(stats_snap_refs(ra.sn), 1);
    json_t *doc = json_loads(stats_snap_json(ra.sn, NULL), 0, NULL);
    T_EQ_INT(num(doc, "env_steps"), 2 * WRITES);
    T_EQ_INT(num(doc, "segments"), 2 * WRITES);
    T_EQ_INT(num(json_object_get(doc, "rejected"), "bad_size"), WRITES);
    T_EQ_INT(num(json_object_get(doc, "rejected"), "wrong_type"), WRITES);
    T_EQ_INT(num(json_array_get(json_object_get(doc, "actors"), 1), "env_steps"), WRITES);
    json_decref(doc);
    stats_snap_unref(&ra.sn);
    stats_destroy(&s);
}

static void test_render_cost(void)
{
    // information only: the cost of one render with a full actor table
    struct stats *s = populated();
    static struct stats_actor rows[103];
    for (uint32_t i = 0; i < 103; i++)
        rows[i] = (struct stats_actor){100 + i, "host-x/actor", rl_now(), 3, 0, 0};
    stats_set_actors(s, rows, 103);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "diag_%d", i);
        stats_set(s, name, i * 0.1);
    }
    int n = 200;
    double t = rl_now();
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        struct stats_snap *sn = stats_render(s, rl_now());
        T_CHECK(sn != NULL);
        size_t jl = 0;
        size_t pl = 0;
        if (sn) {
            stats_snap_json(sn, &jl);
            stats_snap_prom(sn, &pl);
        }
        bytes = jl + pl;
        stats_snap_unref(&sn);
    }
    double dt = rl_now() - t;
    printf("render with 103 actors, 23 scalars: %.1f us per snapshot (%zu bytes)\n", dt / n * 1e6,
           bytes);
    stats_destroy(&s);
}

// the learner's rejection counters (shared_stats_rejected): /stats and /metrics list exactly
// learner_reject_names, in order, each with the owner's count
static void test_reject_reasons(void)
{
    struct shared *sh = calloc(1, sizeof(*sh));
    struct stats *s = stats_new("a", "b", 1);
    RL_ASSERT(sh && s);
    for (int r = 0; r < REJECT_COUNT; r++) {
        T_CHECK_MSG(learner_reject_names[r] && learner_reject_names[r][0], "reason %d unnamed", r);
        for (int q = 0; q < r; q++)
            T_CHECK(strcmp(learner_reject_names[q], learner_reject_names[r]) != 0);
        atomic_store(&sh->rejected[r], (uint64_t)(r * 3));
    }
    shared_stats_rejected(sh, s);
    struct stats_snap *sn;
    json_t *doc = render_doc(s, &sn);
    json_t *rej = json_object_get(doc, "rejected");
    T_EQ_INT(json_object_size(rej), REJECT_COUNT);
    void *it = json_object_iter(rej);
    for (int r = 0; r < REJECT_COUNT && it; r++, it = json_object_iter_next(rej, it)) {
        T_EQ_STR(json_object_iter_key(it), learner_reject_names[r]);
        T_EQ_INT(json_integer_value(json_object_iter_value(it)), r * 3);
    }
    // the Prometheus series: same reasons, same order, same values
    static const char key[] = "rldt_rejected_messages_total{reason=\"";
    const char *p = sn ? stats_snap_prom(sn, NULL) : "";
    int r = 0;
    for (const char *q = strstr(p, key); q; q = strstr(q + 1, key), r++) {
        char want[STATS_NAME_MAX + 32];
        snprintf(want, sizeof(want), "%s%s\"} %d\n", key,
                 r < REJECT_COUNT ? learner_reject_names[r] : "?", r * 3);
        T_CHECK_MSG(!strncmp(q, want, strlen(want)), "series %d: %.60s", r, q);
    }
    T_EQ_INT(r, REJECT_COUNT);
    json_decref(doc);
    stats_snap_unref(&sn);
    stats_destroy(&s);
    free(sh);
}

int main(void)
{
    T_RUN(test_validator_rejects);
    T_RUN(test_json_fields);
    T_RUN(test_prometheus);
    T_RUN(test_empty_prometheus);
    T_RUN(test_rates);
    T_RUN(test_return_window);
    T_RUN(test_restore_totals);
    T_RUN(test_names_and_limits);
    T_RUN(test_snapshot_refs);
    T_RUN(test_threads);
    T_RUN(test_reject_reasons);
    T_RUN(test_render_cost);
    return T_DONE("stats");
}
