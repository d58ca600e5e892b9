/*
 * sweep.c — `rldt sweep`: the command line, the grid (algorithms × tasks × seeds × the
 * key=v1,v2 lists of --grid) expanded into `rldt run` command lines, and sweep.args, which lets
 * `rldt sweep DIR` resume a sweep with the arguments it was started with. sweep_proc.c runs them.
 */
#include "deploy/rldt/sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define MAX_LIST 64 /* values of one list */
#define MAX_GRID 8  /* --grid keys */
#define MAX_SAVED 256

static const char usage[] =
    "usage: rldt sweep --out=DIR [--algos=A,B] [--tasks=T,U] [--seeds=1,2,3]\n"
    "                  [--grid=key=v1,v2 ...] [--parallel=K] [--retries=R] [--dry-run]\n"
    "                  [rldt run options]\n"
    "       rldt sweep DIR [--parallel=K] [--retries=R] [--dry-run] [--max-env-steps=N] "
    "[--algos=A]\n"
    "                               (continue a sweep with the arguments it was started with)\n"
    "\n"
    "Runs every combination of algorithm, task, seed and --grid value as its own `rldt run`\n"
    "in DIR/<task>/<variant>/s<seed> (variant: the algorithm, then key=value of each --grid\n"
    "key, joined by ','), K at a time (default 1), with one progress line. Rerunning the same\n"
    "command (or `rldt sweep DIR`) skips finished runs and resumes unfinished ones from their\n"
    "checkpoint. Other options (--config=FILE, --max-env-steps=N, ...) go to every run; in their\n"
    "values {env} becomes the task. base_policy defaults to deploy/policies/<task>.rldt (after\n"
    "any --config file; a --base-policy given here wins). Each run's console output is in\n"
    "DIR/<task>/<variant>/s<seed>.log. `rldt report DIR` aggregates the results.\n"
    "A run that fails is relaunched from its last checkpoint up to R times (default 1; not one\n"
    "whose configuration was refused); the end of its log is shown.\n"
    "With DIR, --max-env-steps=N continues finished runs to a larger budget (resumed from their\n"
    "checkpoints) and --algos=A limits the sweep to some of its algorithms; both are saved with\n"
    "the sweep's arguments (later ones win).\n"
    "Defaults: --algos=rldt --tasks=hopper --seeds=1.\n";

/* the keys the sweep sets itself */
static const char *const owned[] = {"algo",  "env",          "seed",      "run_dir",    "resume",
                                    "stats", "control_port", "data_port", "params_port"};

struct list {
    char *v[MAX_LIST];
    int n;
};

struct grid_key {
    char key[64];
    struct list vals;
};

struct opts {
    const char *out;
    struct list algos, tasks, seeds;
    struct grid_key grid[MAX_GRID];
    int ngrid, parallel, retries;
    bool dry_run;
    const char *pass[SWEEP_MAX_ARGS]; /* other options, in order */
    int npass;
};

// split a comma list (text is modified); -EINVAL when empty or too long
static int split_list(char *text, struct list *l, const char *what)
{
    l->n = 0;
    for (char *save = NULL, *t = strtok_r(text, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (l->n == MAX_LIST) {
            fprintf(stderr, "rldt sweep: %s has more than %d values\n", what, MAX_LIST);
            return -EINVAL;
        }
        l->v[l->n++] = t;
    }
    if (l->n == 0) {
        fprintf(stderr, "rldt sweep: %s is empty\n", what);
        return -EINVAL;
    }
    return 0;
}

// each value of l must be accepted for key (config_set's type and range checks) and make a
// directory name (no '/', not starting with '.')
static int check_values(const char *key, const struct list *l)
{
    struct rl_config c;
    char err[256];
    for (int i = 0; i < l->n; i++) {
        if (strchr(l->v[i], '/') || l->v[i][0] == '.') {
            fprintf(stderr, "rldt sweep: %s: '%s' cannot name a run directory\n", key, l->v[i]);
            return -EINVAL;
        }
        config_default(&c);
        if (config_set(&c, key, l->v[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "rldt sweep: %s\n", err);
            return -EINVAL;
        }
    }
    return 0;
}

static bool is_owned(const char *key)
{
    const struct config_key *k = config_find(key);
    for (size_t i = 0; k && i < RL_ARRAY_LEN(owned); i++)
        if (k == config_find(owned[i]))
            return true;
    return false;
}

static int add_grid(struct opts *o, char *spec)
{
    char *eq = strchr(spec, '=');
    if (!eq || eq == spec || o->ngrid == MAX_GRID) {
        fprintf(stderr, "rldt sweep: --grid wants key=v1,v2 (at most %d keys), got '%s'\n",
                MAX_GRID, spec);
        return -EINVAL;
    }
    *eq = 0;
    struct grid_key *g = &o->grid[o->ngrid];
    if (!config_find(spec) || is_owned(spec) || strlen(spec) >= sizeof(g->key)) {
        fprintf(stderr, "rldt sweep: --grid: '%s' is not a run option the grid may vary\n", spec);
        return -EINVAL;
    }
    snprintf(g->key, sizeof(g->key), "%s", spec);
    for (char *p = g->key; *p; p++)
        *p = *p == '-' ? '_' : *p;
    if (split_list(eq + 1, &g->vals, "--grid") < 0 || check_values(g->key, &g->vals) < 0)
        return -EINVAL;
    o->ngrid++;
    return 0;
}

// "--name=K" with K in lo..hi into *v: 0, or -EINVAL with a message
static int int_opt(const char *arg, size_t skip, long lo, long hi, int *v)
{
    char *end;
    long k = strtol(arg + skip, &end, 10);
    if (!arg[skip] || *end || k < lo || k > hi) {
        fprintf(stderr, "rldt sweep: %.*s wants %ld..%ld, got '%s'\n", (int)skip - 1, arg, lo, hi,
                arg + skip);
        return -EINVAL;
    }
    *v = (int)k;
    return 0;
}

// one sweep option; returns 1 when arg is not one (a run option), 0, or -EINVAL
static int sweep_opt(struct opts *o, char *arg)
{
    static const char *const lists[] = {"--algos=", "--tasks=", "--seeds="};
    struct list *dst[] = {&o->algos, &o->tasks, &o->seeds};
    static const char *const keys[] = {"algo", "env", "seed"};
    for (int i = 0; i < 3; i++)
        if (!strncmp(arg, lists[i], strlen(lists[i])))
            return split_list(arg + strlen(lists[i]), dst[i], lists[i]) < 0 ||
                           check_values(keys[i], dst[i]) < 0
                       ? -EINVAL
                       : 0;
    if (!strncmp(arg, "--grid=", 7))
        return add_grid(o, arg + 7);
    if (!strncmp(arg, "--out=", 6) && arg[6]) {
        o->out = arg + 6;
        return 0;
    }
    if (!strncmp(arg, "--parallel=", 11))
        return int_opt(arg, 11, 1, 64, &o->parallel);
    if (!strncmp(arg, "--retries=", 10))
        return int_opt(arg, 10, 0, 100, &o->retries);
    if (!strcmp(arg, "--dry-run")) {
        o->dry_run = true;
        return 0;
    }
    return 1;
}

// the key of a run option "--key=value" / "--key" / "--no-key"
static void opt_key(const char *arg, char *key, size_t len)
{
    const char *k = arg + 2;
    size_t n = strcspn(k, "=");
    snprintf(key, len, "%.*s", (int)RL_MIN(n, len - 1), k);
    if (!config_find(key) && !strncmp(key, "no-", 3))
        memmove(key, key + 3, strlen(key + 3) + 1);
}

// arg with every {env} replaced by task, into out
static void subst_env(const char *arg, const char *task, char *out, size_t len)
{
    char *p = out;
    const char *s = arg;
    for (const char *m; (m = strstr(s, "{env}")) && p + (m - s) + 64 < out + len; s = m + 5)
        p += snprintf(p, (size_t)(out + len - p), "%.*s%s", (int)(m - s), s, task);
    snprintf(p, (size_t)(out + len - p), "%s", s);
}

// run options: accepted by the run config (a scratch parse, {env} replaced by each task), none
// of the sweep's own keys
static int check_pass(const struct opts *o)
{
    struct rl_config c;
    char err[512], key[128];
    for (int i = 0; i < o->npass; i++) {
        opt_key(o->pass[i], key, sizeof(key));
        if (is_owned(key)) {
            fprintf(stderr, "rldt sweep: %s is set by the sweep for each run\n", o->pass[i]);
            return -EINVAL;
        }
    }
    static char bufs[SWEEP_MAX_ARGS / 2][SWEEP_PATH];
    char *av[SWEEP_MAX_ARGS + 1] = {"run"};
    for (int t = 0; t < o->tasks.n; t++) {
        for (int i = 0; i < o->npass; i++) {
            subst_env(o->pass[i], o->tasks.v[t], bufs[i], sizeof(bufs[i]));
            av[i + 1] = bufs[i];
        }
        config_default(&c);
        if (config_parse_args(&c, o->npass + 1, av, NULL, NULL, err, sizeof(err))) {
            fprintf(stderr, "rldt sweep: %s (task %s)\n", err, o->tasks.v[t]);
            return -EINVAL;
        }
    }
    return 0;
}

static int parse(struct opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 1;
        }
        int rc = argv[i][0] == '-' ? sweep_opt(o, argv[i]) : 1;
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        if (argv[i][0] != '-' && !o->out) {
            o->out = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1] == '-' && o->npass + 1 < SWEEP_MAX_ARGS / 2) {
            o->pass[o->npass++] = argv[i];
        } else {
            fprintf(stderr, "rldt sweep: unexpected argument '%s'\n%s", argv[i], usage);
            return -EINVAL;
        }
    }
    if (!o->out) {
        fprintf(stderr, "rldt sweep: no sweep directory (--out=DIR)\n%s", usage);
        return -EINVAL;
    }
    return check_pass(o);
}

// ---- sweep.args --------------------------------------------------------------------------

static int save_args(const char *dir, int argc, char **argv)
{
    char path[SWEEP_PATH + 16], tmp[SWEEP_PATH + 32];
    snprintf(path, sizeof(path), "%s/sweep.args", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--out=", 6) && argv[i][0] == '-')
            fprintf(f, "%s\n", argv[i]);
    int rc = fclose(f) == 0 ? 0 : -EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    return rc;
}

// argv[0] then the lines of DIR/sweep.args then DIR; *out owns the strings (free_saved)
static int load_args(const char *dir, char **out, int *n)
{
    char path[SWEEP_PATH + 16], line[4096];
    snprintf(path, sizeof(path), "%s/sweep.args", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "rldt sweep: %s: %s (give the grid, or a sweep directory)\n", path,
                strerror(errno));
        return -ENOENT;
    }
    *n = 1;
    out[0] = strdup("sweep");
    while (fgets(line, sizeof(line), f) && *n < MAX_SAVED - 1) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0])
            out[(*n)++] = strdup(line);
    }
    fclose(f);
    out[(*n)++] = strdup(dir);
    for (int i = 0; i < *n; i++)
        if (!out[i])
            return -ENOMEM;
    return 0;
}

// ---- the grid ----------------------------------------------------------------------------

static int push(struct sweep_run *r, const char *fmt, const char *a, const char *b)
{
    char buf[SWEEP_PATH + 64];
    snprintf(buf, sizeof(buf), fmt, a, b);
    if (r->argc + 6 >= SWEEP_MAX_ARGS) /* room for the ports and --resume at launch */
        return -E2BIG;
    r->argv[r->argc] = strdup(buf);
    return r->argv[r->argc++] ? 0 : -ENOMEM;
}

// a run option with {env} replaced by the task
static int push_pass(struct sweep_run *r, const char *arg, const char *task)
{
    char buf[SWEEP_PATH];
    subst_env(arg, task, buf, sizeof(buf));
    return push(r, "%s%s", buf, "");
}

static bool has_key(const struct opts *o, const char *key)
{
    char k[128];
    for (int i = 0; i < o->npass; i++) {
        opt_key(o->pass[i], k, sizeof(k));
        if (config_find(k) && config_find(k) == config_find(key))
            return true;
    }
    return false;
}

// the `rldt run` arguments of one cell: --config files first (the cell's algo, env and seed
// override theirs), the default base policy, the other options, the grid values
static int build_argv(const struct opts *o, struct sweep_run *r, const char *algo, const char *task,
                      const char *seed, const int *gi)
{
    int rc = push(r, "%s%s", "run", "");
    for (int i = 0; !rc && i < o->npass; i++)
        if (!strncmp(o->pass[i], "--config=", 9))
            rc = push_pass(r, o->pass[i], task);
    rc = rc ? rc : push(r, "--algo=%s%s", algo, "");
    rc = rc ? rc : push(r, "--env=%s%s", task, "");
    rc = rc ? rc : push(r, "--seed=%s%s", seed, "");
    rc = rc ? rc : push(r, "--run-dir=%s%s", r->dir, "");
    if (!rc && !has_key(o, "base_policy"))
        rc = push(r, "--base-policy=deploy/policies/%s.rldt%s", task, "");
    for (int i = 0; !rc && i < o->npass; i++)
        if (strncmp(o->pass[i], "--config=", 9))
            rc = push_pass(r, o->pass[i], task);
    for (int g = 0; !rc && g < o->ngrid; g++)
        rc = push(r, "--%s=%s", o->grid[g].key, o->grid[g].vals.v[gi[g]]);
    return rc;
}

// name the cell and fill its arguments
static int make_run(const struct opts *o, struct sweep_run *r, int a, int t, int s, const int *gi)
{
    const char *algo = o->algos.v[a], *task = o->tasks.v[t], *seed = o->seeds.v[s];
    char variant[512];
    int len = snprintf(variant, sizeof(variant), "%s", algo);
    for (int g = 0; g < o->ngrid && len < (int)sizeof(variant); g++)
        len += snprintf(variant + len, sizeof(variant) - (size_t)len, ",%s=%s", o->grid[g].key,
                        o->grid[g].vals.v[gi[g]]);
    if (len >= (int)sizeof(variant) || snprintf(r->dir, sizeof(r->dir), "%s/%s/%s/s%s", o->out,
                                                task, variant, seed) >= (int)sizeof(r->dir)) {
        fprintf(stderr, "rldt sweep: run directory name too long\n");
        return -ENAMETOOLONG;
    }
    snprintf(r->label, sizeof(r->label), "%s %s s%s", task, variant, seed);
    int rc = build_argv(o, r, algo, task, seed, gi);
    if (rc)
        fprintf(stderr, "rldt sweep: %s: too many run options\n", r->label);
    return rc;
}

static void free_runs(struct sweep *sw)
{
    for (int i = 0; sw->runs && i < sw->n; i++)
        for (int k = 0; k < sw->runs[i].argc; k++)
            free(sw->runs[i].argv[k]);
    free(sw->runs);
    sw->runs = NULL;
}

static int expand(const struct opts *o, struct sweep *sw)
{
    int cells = 1;
    for (int g = 0; g < o->ngrid; g++)
        cells *= o->grid[g].vals.n;
    long n = (long)o->algos.n * o->tasks.n * o->seeds.n * cells;
    if (n > 100000) {
        fprintf(stderr, "rldt sweep: %ld runs is too many\n", n);
        return -E2BIG;
    }
    sw->runs = calloc((size_t)n, sizeof(*sw->runs));
    if (!sw->runs)
        return -ENOMEM;
    for (int t = 0; t < o->tasks.n; t++)
        for (int a = 0; a < o->algos.n; a++)
            for (int c = 0; c < cells; c++)
                for (int s = 0; s < o->seeds.n; s++) {
                    int gi[MAX_GRID], rest = c;
                    for (int g = o->ngrid - 1; g >= 0; g--) {
                        gi[g] = rest % o->grid[g].vals.n;
                        rest /= o->grid[g].vals.n;
                    }
                    int rc = make_run(o, &sw->runs[sw->n++], a, t, s, gi);
                    if (rc)
                        return rc;
                }
    return 0;
}

static void opts_default(struct opts *o)
{
    static char a[] = "rldt", t[] = "hopper", s[] = "1";
    memset(o, 0, sizeof(*o));
    o->algos = (struct list){{a}, 1};
    o->tasks = (struct list){{t}, 1};
    o->seeds = (struct list){{s}, 1};
    o->parallel = 1;
    o->retries = 1;
}

// parse a copy of argv (lists are split in place), expand; 0, or the exit code
static int setup(struct sweep *sw, int argc, char **argv, char **copy)
{
    for (int i = 0; i < argc; i++)
        if (!(copy[i] = strdup(argv[i])))
            return 1;
    struct opts o;
    opts_default(&o);
    int rc = parse(&o, argc, copy);
    if (rc)
        return rc == 1 ? -1 : 2;
    sw->parallel = o.parallel;
    sw->retries = o.retries;
    sw->dry_run = o.dry_run;
    snprintf(sw->dir, sizeof(sw->dir), "%s", o.out);
    return expand(&o, sw) < 0 ? 2 : 0;
}

static int sweep_main(int argc, char **argv)
{
    struct sweep sw = {0};
    char **copy = calloc((size_t)argc + 1, sizeof(*copy));
    int rc = copy ? setup(&sw, argc, argv, copy) : 1;
    for (int i = 0; copy && i < argc; i++)
        free(copy[i]);
    free(copy);
    if (rc) {
        free_runs(&sw);
        return rc < 0 ? 0 : rc;
    }
    if (!sw.dry_run) {
        rc = rl_mkdir_p(sw.dir);
        rc = rc ? rc : save_args(sw.dir, argc, argv);
        if (rc) {
            fprintf(stderr, "rldt sweep: cannot write %s/sweep.args: %s\n", sw.dir, strerror(-rc));
            free_runs(&sw);
            return 1;
        }
    }
    rc = sweep_execute(&sw);
    free_runs(&sw);
    return rc;
}

// a directory and at most --dry-run / --parallel / --retries / ...: continue with the saved
// arguments
static const char *resume_dir(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else if (strcmp(argv[i], "--dry-run") && strncmp(argv[i], "--parallel=", 11) &&
                 strncmp(argv[i], "--retries=", 10) && strncmp(argv[i], "--max-env-steps=", 16) &&
                 strncmp(argv[i], "--algos=", 8))
            return NULL;
    }
    return dir;
}

int cmd_sweep(int argc, char **argv)
{
    const char *dir = resume_dir(argc, argv);
    if (dir) {
        char *saved[MAX_SAVED] = {0};
        int n = 0, rc = load_args(dir, saved, &n);
        for (int i = 1; rc == 0 && i < argc && n < MAX_SAVED; i++)
            if (argv[i][0] == '-' && !(saved[n++] = strdup(argv[i]))) /* after the saved ones */
                rc = -ENOMEM;
        if (rc == 0)
            rc = sweep_main(n, saved);
        else
            rc = rc == -ENOMEM ? 1 : 2;
        for (int i = 0; i < n; i++)
            free(saved[i]);
        return rc;
    }
    return sweep_main(argc, argv);
}
