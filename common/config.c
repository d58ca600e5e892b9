/*
 * config.c — parsing, validation, help and output for the key table in config_keys.c.
 * Files are parsed with inih (Debian libinih).
 */
#include "common/config.h"
#include "common/algoinfo.h"
#include "common/task.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/afile.h"
#include "common/util.h"

static bool name_eq(const char *a, const char *b, size_t blen)
{
    size_t i = 0;
    for (; i < blen && a[i]; i++) {
        char x = a[i] == '-' ? '_' : a[i];
        char y = b[i] == '-' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return i == blen && a[i] == 0;
}

const struct config_key *config_find(const char *name)
{
    for (size_t i = 0; i < config_nkeys; i++)
        if (name_eq(config_keys[i].name, name, strlen(name)))
            return &config_keys[i];
    return NULL;
}

// edit distance, for "did you mean"
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int d[41][41];
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            char x = a[i - 1] == '-' ? '_' : a[i - 1];
            char y = b[j - 1] == '-' ? '_' : b[j - 1];
            int best = d[i - 1][j - 1] + (x != y);
            best = RL_MIN(best, d[i - 1][j] + 1);
            d[i][j] = RL_MIN(best, d[i][j - 1] + 1);
        }
    return d[la][lb];
}

static void unknown_key(const char *name, char *err, size_t errlen)
{
    const char *best = NULL;
    int bd = 3;
    for (size_t i = 0; i < config_nkeys; i++) {
        int dd = distance(name, config_keys[i].name);
        if (dd < bd) {
            bd = dd;
            best = config_keys[i].name;
        }
    }
    if (best)
        snprintf(err, errlen, "unknown key '%s' (did you mean '%s'?)", name, best);
    else
        snprintf(err, errlen, "unknown key '%s' (see --help)", name);
}

// an enum key's choices ("a|b|c"), or the known values a string key's --help lists; NULL: none
static const char *key_choices(const struct config_key *k)
{
    return k->choices_of ? k->choices_of() : k->choices;
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(v, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

static int set_number(void *field, const struct config_key *k, const char *v, char *err,
                      size_t errlen)
{
    char *end;
    errno = 0;
    double x;
    if (k->type == CONFIG_T_DBL) {
        x = strtod(v, &end);
    } else {
        long long i = strtoll(v, &end, 10);
        // accept 1e6-style integers too, when exact
        if (*end == 'e' || *end == 'E' || *end == '.') {
            double d = strtod(v, &end);
            // beyond long long (e.g. 3e70) the cast is undefined: refused as not an integer
            if (!(d > -9.2e18 && d < 9.2e18))
                end = (char *)v;
            else if ((double)(i = (long long)d) != d)
                end = (char *)v;
        }
        x = (double)i;
    }
    if (end == v || *end != 0 || errno == ERANGE || !isfinite(x)) {
        snprintf(err, errlen, "%s: '%s' is not a valid %s", k->name, v,
                 k->type == CONFIG_T_DBL ? "number" : "integer");
        return -EINVAL;
    }
    if (x < k->min || x > k->max) {
        snprintf(err, errlen, "%s: %s is out of range [%.10g, %.10g]", k->name, v, k->min, k->max);
        return -EINVAL;
    }
    if (k->type == CONFIG_T_INT)
        *(int *)field = (int)x;
    else if (k->type == CONFIG_T_I64)
        *(int64_t *)field = (int64_t)strtod(v, NULL);
    else
        *(double *)field = x;
    return 0;
}

/*
 * A string value must survive the resolved config (a `key = value` line that inih reads back,
 * e.g. on every actor): no control bytes, no leading or trailing blanks (stripped), no ';' at
 * the start or after a blank (an inline comment), and the line within inih's INI_MAX_LINE.
 */
static int check_storable(const struct config_key *k, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    const char *why = NULL;
    for (size_t i = 0; i < n && !why; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f)
            why = "holds a control character";
        else if (ch == ';' && (i == 0 || v[i - 1] == ' ' || v[i - 1] == '\t'))
            why = "holds ' ;' (a comment in a config file)";
    }
    if (!why && n && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1])))
        why = "starts or ends with a blank";
    if (!why && strlen(k->name) + n + 4 >= INI_MAX_LINE)
        why = "is too long for a config line";
    if (!why)
        return 0;
    snprintf(err, errlen, "%s: value %s", k->name, why);
    return -EINVAL;
}

int config_set(struct rl_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct config_key *k = config_find(key);
    if (!k) {
        unknown_key(key, err, errlen);
        return -EINVAL;
    }
    void *field = (char *)c + k->offset;
    switch (k->type) {
    case CONFIG_T_INT:
    case CONFIG_T_I64:
    case CONFIG_T_DBL:
        return set_number(field, k, value, err, errlen);
    case CONFIG_T_BOOL:
        if (parse_bool(value, field) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", k->name, value);
            return -EINVAL;
        }
        return 0;
    case CONFIG_T_ENUM:
        if (!choice_ok(key_choices(k), value)) {
            snprintf(err, errlen, "%s: '%s' is not one of %s", k->name, value, key_choices(k));
            return -EINVAL;
        }
        break;
    case CONFIG_T_STR:
        if (check_storable(k, value, err, errlen) < 0)
            return -EINVAL;
        break;
    }
    if (strlen(value) >= k->size) {
        snprintf(err, errlen, "%s: value longer than %zu characters", k->name, k->size - 1);
        return -EINVAL;
    }
    memcpy(field, value, strlen(value) + 1);
    return 0;
}

void config_default(struct rl_config *c)
{
    memset(c, 0, sizeof(*c));
    char err[256];
    for (size_t i = 0; i < config_nkeys; i++) {
        int rc = config_set(c, config_keys[i].name, config_keys[i].def, err, sizeof(err));
        if (rc)
            rl_assert_fail(err, __FILE__, __LINE__); /* a bad default is a programmer error */
    }
}

// ---- files (inih) ------------------------------------------------------------------------

struct ini_ctx {
    struct rl_config *c;
    char *err;
    size_t errlen;
    int failed;
    const char *dir; /* relative input paths resolve against it; NULL: left as they are */
};

// the keys naming files rldt reads (outputs such as run_dir and out stay as given)
static const char *const path_keys[] = {"base_policy", "model_file",       "policy",
                                        "dataset",     "curve_server_key", "curve_client_key",
                                        "curve_allow"};

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i]))
            return true;
    return false;
}

/* k's value prefixed with dir when it is a relative path; 0 or -EINVAL + err */
static int resolve_key(struct rl_config *c, const struct config_key *k, const char *dir, char *err,
                       size_t errlen)
{
    bool is_path = in_list(k->name, path_keys, RL_ARRAY_LEN(path_keys));
    char *v = (char *)c + k->offset;
    if (!is_path || !v[0] || v[0] == '/' || !strcmp(v, "random") || !strcmp(v, "zero"))
        return 0;
    char full[2 * CONFIG_STR + 2];
    snprintf(full, sizeof(full), "%s/%s", dir, v);
    return config_set(c, k->name, full, err, errlen);
}

int config_resolve_paths(struct rl_config *c, const char *dir, char *err, size_t errlen)
{
    char cwd[CONFIG_STR];
    if (!dir && !getcwd(cwd, sizeof(cwd))) {
        snprintf(err, errlen, "cannot read the working directory: %s", strerror(errno));
        return -errno;
    }
    for (size_t i = 0; i < config_nkeys; i++) {
        int rc = resolve_key(c, &config_keys[i], dir ? dir : cwd, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void config_strip_dirs(struct rl_config *c)
{
    static const char *const outputs[] = {"out", "run_dir"};
    for (size_t i = 0; i < config_nkeys; i++) {
        const struct config_key *k = &config_keys[i];
        bool strip = in_list(k->name, path_keys, RL_ARRAY_LEN(path_keys)) ||
                     in_list(k->name, outputs, RL_ARRAY_LEN(outputs));
        char *v = (char *)c + k->offset, *slash = strip ? strrchr(v, '/') : NULL;
        if (slash)
            memmove(v, slash + 1, strlen(slash + 1) + 1);
    }
}

static int on_ini_key(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *x = user;
    (void)section;
    if (x->failed)
        return 0;
    char e[256];
    const struct config_key *k = config_find(name);
    if (config_set(x->c, name, value, e, sizeof(e)) < 0 ||
        (k && x->dir && resolve_key(x->c, k, x->dir, e, sizeof(e)) < 0)) {
        snprintf(x->err, x->errlen, "%s", e);
        x->failed = 1;
        return 0;
    }
    return 1;
}

static int ini_result(int rc, struct ini_ctx *x, const char *what, char *err, size_t errlen)
{
    if (x->failed) {
        // inih reports the line of the first key our handler refused
        char tmp[300];
        snprintf(tmp, sizeof(tmp), "%s", err);
        snprintf(err, errlen, "%s: line %d: %s", what, rc, tmp);
        return -EINVAL;
    }
    if (rc == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", what, strerror(errno));
        return -ENOENT;
    }
    if (rc == -2) {
        snprintf(err, errlen, "%s: out of memory", what);
        return -ENOMEM;
    }
    if (rc > 0) {
        snprintf(err, errlen, "%s: line %d: syntax error (expected `key = value` or [section])",
                 what, rc);
        return -EINVAL;
    }
    return 0;
}

int config_load_file(struct rl_config *c, const char *path, char *err, size_t errlen)
{
    // the file's directory, absolute, so resolved paths stay valid from any directory
    char copy[PATH_MAX], dir[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    char *slash = strrchr(copy, '/');
    if (slash)
        *slash = 0;
    if (!realpath(slash ? (copy[0] ? copy : "/") : ".", dir)) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -ENOENT;
    }
    struct ini_ctx x = {c, err, errlen, 0, dir};
    int rc = ini_parse(path, on_ini_key, &x);
    return ini_result(rc, &x, path, err, errlen);
}

int config_load_string(struct rl_config *c, const char *text, char *err, size_t errlen)
{
    struct ini_ctx x = {c, err, errlen, 0, NULL};
    int rc = ini_parse_string(text, on_ini_key, &x);
    return ini_result(rc, &x, "config text", err, errlen);
}

// ---- command line ------------------------------------------------------------------------

static int parse_one(struct rl_config *c, int argc, char **argv, int *i, char *err, size_t errlen)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    char name[64];
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (nlen == 0 || nlen >= sizeof(name)) {
        snprintf(err, errlen, "bad option '%s'", argv[*i]);
        return -EINVAL;
    }
    memcpy(name, arg, nlen);
    name[nlen] = 0;
    if (name_eq("config", name, nlen)) {
        if (!eq && *i + 1 >= argc) {
            snprintf(err, errlen, "--config needs a file");
            return -EINVAL;
        }
        return config_load_file(c, eq ? eq + 1 : argv[++*i], err, errlen);
    }
    const struct config_key *k = config_find(name);
    if (!k && !eq && !strncmp(name, "no-", 3)) {
        const struct config_key *b = config_find(name + 3);
        if (b && b->type == CONFIG_T_BOOL)
            return config_set(c, b->name, "false", err, errlen);
    }
    if (!k) {
        unknown_key(name, err, errlen);
        return -EINVAL;
    }
    if (eq)
        return config_set(c, k->name, eq + 1, err, errlen);
    if (k->type == CONFIG_T_BOOL)
        return config_set(c, k->name, "true", err, errlen);
    if (*i + 1 >= argc) {
        snprintf(err, errlen, "--%s needs a value", k->name);
        return -EINVAL;
    }
    return config_set(c, k->name, argv[++*i], err, errlen);
}

int config_parse_args(struct rl_config *c, int argc, char **argv, const char **pos, int *npos,
                      char *err, size_t errlen)
{
    if (npos)
        *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        if (!strncmp(a, "--", 2)) {
            int rc = parse_one(c, argc, argv, &i, err, errlen);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!pos || !npos || *npos >= CONFIG_MAX_POS) {
            snprintf(err, errlen, "unexpected argument '%s'", a);
            return -EINVAL;
        }
        pos[(*npos)++] = a;
    }
    return 0;
}

void config_keep_local(struct rl_config *dst, const struct rl_config *src)
{
    for (size_t i = 0; i < config_nkeys; i++)
        if (config_keys[i].flags & CONFIG_F_LOCAL)
            memcpy((char *)dst + config_keys[i].offset, (const char *)src + config_keys[i].offset,
                   config_keys[i].size);
}

// load the task plug-in, check the task exists, take its episode length when none is given
static int validate_task(struct rl_config *c, char *err, size_t errlen)
{
    if (c->task_plugin[0]) {
        char why[400];
        if (task_load_plugin(c->task_plugin, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "task_plugin: %s", why);
            return -EINVAL;
        }
    }
    const struct task_info *t = task_find(c->env);
    if (!t) {
        snprintf(err, errlen, "env: unknown task '%s' (known: %s)", c->env, task_names());
        return -EINVAL;
    }
    if (c->max_episode_steps == 0)
        c->max_episode_steps = t->max_episode_steps;
    return 0;
}

/*
 * An on-policy algorithm (reinflow) owns the runtime's pacing keys: it trains on each fresh batch
 * of one policy version as soon as it is complete (updates_per_step 0: unpaced, never held),
 * publishes after every iteration, drops every segment of an older version (max_policy_lag 0)
 * and acts with its policy from the start (no random warm-up); training may start by the first
 * full batch (min_replay <= reinflow_batch). The replay must hold a batch.
 */
static int on_policy(struct rl_config *c, char *err, size_t errlen)
{
    c->updates_per_step = 0;
    c->publish_every = 1;
    c->max_policy_lag = 0;
    c->warmup_steps = 0;
    if (c->min_replay > c->reinflow_batch) /* training must start by the first full batch */
        c->min_replay = c->reinflow_batch;
    if (c->replay_size < c->reinflow_batch) {
        snprintf(err, errlen, "replay_size (%lld) must hold a reinflow_batch (%lld)",
                 (long long)c->replay_size, (long long)c->reinflow_batch);
        return -EINVAL;
    }
    if (c->reinflow_std_min > c->reinflow_std_max) {
        snprintf(err, errlen, "reinflow_std_min (%g) exceeds reinflow_std_max (%g)",
                 c->reinflow_std_min, c->reinflow_std_max);
        return -EINVAL;
    }
    return 0;
}

int config_validate(struct rl_config *c, char *err, size_t errlen)
{
    if (validate_task(c, err, errlen) < 0)
        return -EINVAL;
    const struct algoinfo *ai = algoinfo_find(c->algo);
    if (c->chunk == 0) /* the algorithm's default; 4 for a name only code can set */
        c->chunk = ai ? ai->default_chunk : 4;
    if (c->chunk > c->max_episode_steps) {
        snprintf(err, errlen, "chunk (%d) is longer than max_episode_steps (%d)", c->chunk,
                 c->max_episode_steps);
        return -EINVAL;
    }
    if (strcmp(c->algo, "reinflow") == 0 && on_policy(c, err, errlen) < 0)
        return -EINVAL;
    // combinations that stall a run: ingest would hold before training may start
    if (c->replay_size < c->min_replay) {
        snprintf(err, errlen,
                 "replay_size (%lld) is smaller than min_replay (%lld): training "
                 "would never start",
                 (long long)c->replay_size, (long long)c->min_replay);
        return -EINVAL;
    }
    if (c->updates_per_step > 0 && c->warmup_steps > c->min_replay + c->ingest_slack) {
        snprintf(err, errlen,
                 "warmup_steps (%lld) exceeds min_replay + ingest_slack (%lld): "
                 "ingest would hold before training may start",
                 (long long)c->warmup_steps, (long long)(c->min_replay + c->ingest_slack));
        return -EINVAL;
    }
    if (c->actor_timeout < 2 * c->heartbeat_secs) { /* one late heartbeat must not end a session */
        snprintf(err, errlen, "actor_timeout (%g s) must be at least twice heartbeat_secs (%g s)",
                 c->actor_timeout, c->heartbeat_secs);
        return -EINVAL;
    }
    return 0;
}

// ---- output ------------------------------------------------------------------------------

static void format_value(const struct rl_config *c, const struct config_key *k, char *buf,
                         size_t len)
{
    const void *field = (const char *)c + k->offset;
    switch (k->type) {
    case CONFIG_T_INT:
        snprintf(buf, len, "%d", *(const int *)field);
        break;
    case CONFIG_T_I64:
        snprintf(buf, len, "%lld", (long long)*(const int64_t *)field);
        break;
    case CONFIG_T_DBL: { /* the shortest digits that read back to the same double */
        double v = *(const double *)field;
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(buf, len, "%.*g", digits, v);
            if (strtod(buf, NULL) == v)
                break;
        }
        break;
    }
    case CONFIG_T_BOOL:
        snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false");
        break;
    case CONFIG_T_STR:
    case CONFIG_T_ENUM:
        snprintf(buf, len, "%s", (const char *)field);
        break;
    }
}

void config_write(const struct rl_config *c, FILE *f)
{
    const char *sec = NULL;
    char val[CONFIG_STR + 8];
    for (size_t i = 0; i < config_nkeys; i++) {
        const struct config_key *k = &config_keys[i];
        if (!sec || strcmp(sec, k->section)) {
            fprintf(f, "%s[%s]\n", sec ? "\n" : "", k->section);
            sec = k->section;
        }
        format_value(c, k, val, sizeof(val));
        fprintf(f, "# %s", k->help);
        if (k->choices_of) /* a registry's values: the help of the keys with a fixed list says them
                            */
            fprintf(f, " {%s}", k->choices_of());
        fprintf(f, "\n%s = %s\n", k->name, val);
    }
}

char *config_to_string(const struct rl_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    config_write(c, f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int config_save(const struct rl_config *c, const char *path)
{
    struct afile a;
    int rc = afile_open(&a, path, 0644);
    if (rc)
        return rc;
    FILE *f = afile_stream(&a);
    if (!f) {
        rc = -errno;
        afile_abort(&a);
        return rc;
    }
    config_write(c, f);
    return afile_commit(&a);
}

static bool in_sections(const char *sections, const char *sec)
{
    if (!sections)
        return true;
    size_t n = strlen(sec);
    for (const char *p = sections; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !strncmp(p, sec, n))
            return true;
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

void config_help(FILE *f, const char *sections)
{
    static const char *tnames[] = {"INT", "INT", "NUM", "BOOL", "TEXT", "CHOICE"};
    for (size_t i = 0; i < config_nkeys; i++) {
        const struct config_key *k = &config_keys[i];
        char flag[64];
        snprintf(flag, sizeof(flag), "-%s", k->name);
        if (!in_sections(sections, k->section) && !in_sections(sections, flag))
            continue;
        char opt[80];
        if (k->type == CONFIG_T_BOOL)
            snprintf(opt, sizeof(opt), "--%s", k->name);
        else
            snprintf(opt, sizeof(opt), "--%s=%s", k->name, tnames[k->type]);
        for (char *p = opt + 2; *p && *p != '='; p++)
            if (*p == '_')
                *p = '-';
        fprintf(f, "  %-28s %s", opt, k->help);
        if (key_choices(k))
            fprintf(f, " {%s}", key_choices(k));
        if (k->type == CONFIG_T_INT || k->type == CONFIG_T_I64 || k->type == CONFIG_T_DBL)
            fprintf(f, " [%.10g, %.10g]", k->min, k->max);
        fprintf(f, " (default: %s)\n", k->def[0] ? k->def : "\"\"");
    }
}

int config_cli(struct rl_config *c, const char *prog, const char *usage, const char *sections,
               int argc, char **argv, const char **pos, int *npos)
{
    char err[512];
    config_default(c);
    int rc = config_parse_args(c, argc, argv, pos, npos, err, sizeof(err));
    if (rc == 1) {
        printf("usage: %s\n\noptions (also settable as `key = value` in a --config=FILE):\n",
               usage);
        config_help(stdout, sections);
        printf("  %-28s %s\n", "--config=FILE", "read keys from an INI file (later flags win)");
        return 1;
    }
    if (rc == 0)
        rc = config_validate(c, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    return 0;
}
