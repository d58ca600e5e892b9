/* test_config.c — defaults, flags, files, validation errors, round trip of the resolved config. */
#include "common/algoinfo.h"
#include "common/config.h"
#include "common/policy.h"
#include "common/task.h"
#include "learner/algo.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <stdarg.h>
static int parse(struct rl_config *c, char *err, int n, ...)
{
    char *argv[16] = {"prog"};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    return config_parse_args(c, n + 1, argv, NULL, NULL, err, 256);
}

static void test_defaults(void)
{
    struct rl_config c;
    config_default(&c);
    T_EQ_STR(c.env, "hopper");
    T_EQ_INT(c.chunk, 0);
    char err[256];
    T_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
    T_EQ_INT(c.chunk, 1); /* sac's default */
    config_default(&c);
    T_EQ_INT(config_set(&c, "algo", "rldt", err, sizeof(err)), 0);
    T_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
    T_EQ_INT(c.chunk, 4);
    T_EQ_INT(c.max_env_steps, 1000000);
    T_EQ_INT(c.max_episode_steps, 1000); /* the task's episode length (0 before validation) */
    T_CHECK(!c.resume);
    // table-top tasks have their own episode lengths unless one is given
    const char *tt[] = {"lift", "stack", "peg"};
    const int len[] = {200, 300, 400};
    for (int k = 0; k < 3; k++) {
        config_default(&c);
        T_EQ_INT(c.max_episode_steps, 0);
        T_EQ_INT(config_set(&c, "env", tt[k], err, sizeof(err)), 0);
        T_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
        T_EQ_INT(c.max_episode_steps, len[k]);
    }
    T_EQ_INT(config_set(&c, "max_episode_steps", "50", err, sizeof(err)), 0);
    T_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
    T_EQ_INT(c.max_episode_steps, 50);
    // every table default is in range and names are unique
    for (size_t i = 0; i < config_nkeys; i++)
        for (size_t j = i + 1; j < config_nkeys; j++)
            T_CHECK(strcmp(config_keys[i].name, config_keys[j].name) != 0);
}

static void test_flags(void)
{
    struct rl_config c;
    char err[256] = "";
    config_default(&c);
    T_EQ_INT(parse(&c, err, 5, "--max-env-steps=1000", "--env", "walker2d", "--resume", "--seed=7"),
             0);
    T_EQ_INT(c.max_env_steps, 1000);
    T_EQ_STR(c.env, "walker2d");
    T_CHECK(c.resume);
    T_EQ_INT(c.seed, 7);
    T_EQ_INT(parse(&c, err, 2, "--no-resume", "--max_env_steps=2e6"), 0);
    T_CHECK(!c.resume);
    T_EQ_INT(c.max_env_steps, 2000000);
    T_EQ_INT(parse(&c, err, 1, "--help"), 1);
}

static void test_errors(void)
{
    struct rl_config c;
    char err[256];
    config_default(&c);
    T_EQ_INT(parse(&c, err, 1, "--max-env-step=5"), -EINVAL);
    T_CHECK_MSG(strstr(err, "did you mean 'max_env_steps'"), "%s", err);
    T_EQ_INT(parse(&c, err, 1, "--max-env-steps=abc"), -EINVAL);
    T_CHECK_MSG(strstr(err, "not a valid integer"), "%s", err);
    T_EQ_INT(parse(&c, err, 1, "--max-env-steps=0"), -EINVAL);
    T_CHECK_MSG(strstr(err, "out of range"), "%s", err);
    T_EQ_INT(parse(&c, err, 1, "--chunk=2.5"), -EINVAL);
    // an unknown task parses but does not validate; the message lists the known ones
    struct rl_config u;
    config_default(&u);
    T_EQ_INT(parse(&u, err, 1, "--env=ant"), 0);
    T_EQ_INT(config_validate(&u, err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "ant") && strstr(err, "hopper") && strstr(err, "peg"), "%s", err);
    config_default(&u);
    T_EQ_INT(parse(&u, err, 1, "--task-plugin=/nonexistent/task.so"), 0);
    T_EQ_INT(config_validate(&u, err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "task_plugin") && strstr(err, "/nonexistent/task.so"), "%s", err);
    T_EQ_INT(parse(&c, err, 1, "--resume=maybe"), -EINVAL);
    T_EQ_INT(parse(&c, err, 1, "--secs=nan"), -EINVAL);
    T_EQ_INT(parse(&c, err, 1, "--chunk"), -EINVAL); /* missing value */
    T_EQ_INT(parse(&c, err, 1, "positional"), -EINVAL);
    // a failed parse leaves earlier values alone
    T_EQ_INT(c.max_env_steps, 1000000);
    T_EQ_INT(c.chunk, 0);
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    T_EQ_INT(config_set(&c, "run_dir", big, err, sizeof(err)), -EINVAL);
}

static void test_positional(void)
{
    struct rl_config c;
    char err[256];
    const char *pos[CONFIG_MAX_POS];
    int npos;
    char *argv[] = {"prog", "a.dat", "--chunk=8", "b.dat"};
    config_default(&c);
    T_EQ_INT(config_parse_args(&c, 4, argv, pos, &npos, err, sizeof(err)), 0);
    T_EQ_INT(npos, 2);
    T_EQ_STR(pos[1], "b.dat");
    T_EQ_INT(c.chunk, 8);
}

static void test_file_roundtrip(void)
{
    char dir[] = "/tmp/rldt-cfg-XXXXXX";
    T_CHECK(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof(path), "%s/run.ini", dir);
    struct rl_config a, b;
    char err[256];
    config_default(&a);
    T_EQ_INT(parse(&a, err, 3, "--env=halfcheetah", "--secs=0.25", "--run-dir=runs/x y"), 0);
    T_EQ_INT(config_save(&a, path), 0);
    config_default(&b);
    T_EQ_INT(config_load_file(&b, path, err, sizeof(err)), 0);
    T_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    // text form (what the learner sends to actors)
    char *text = config_to_string(&a);
    T_CHECK(text != NULL);
    config_default(&b);
    T_EQ_INT(config_load_string(&b, text, err, sizeof(err)), 0);
    T_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    // numbers are written with the fewest digits that read back exactly (0.95, not 0.949999...)
    T_CHECK(strstr(text, "\nreinflow_lambda = 0.95\n") != NULL);
    T_CHECK(strstr(text, "\nsecs = 0.25\n") != NULL);
    free(text);
    // an awkward double still round-trips bit for bit
    config_default(&a);
    T_EQ_INT(parse(&a, err, 1, "--tau=0.1234567890123456789"), 0);
    text = config_to_string(&a);
    config_default(&b);
    T_EQ_INT(config_load_string(&b, text, err, sizeof(err)), 0);
    T_CHECK(memcmp(&a.tau, &b.tau, sizeof(a.tau)) == 0);
    free(text);
    // --config loads a file at its position; later flags win
    char flag[320];
    snprintf(flag, sizeof(flag), "--config=%s", path);
    config_default(&b);
    T_EQ_INT(parse(&b, err, 2, flag, "--env=hopper"), 0);
    T_EQ_STR(b.env, "hopper");
    T_NEAR(b.secs, 0.25, 0);
    unlink(path);
    rmdir(dir);
}

// string values either round-trip through the resolved text or are refused by config_set
// (found by tests/fuzz/fuzz_config_args: a trailing blank, a leading ';', and paths longer than
// an inih line)
static void test_string_values(void)
{
    static const char *bad[] = {"x ", " x", "a\nb", "a\tb", "a ;b", "tab\t;x", ";x"};
    char longv[240];
    memset(longv, 'p', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = 0;
    struct rl_config c, d;
    char err[256];
    config_default(&c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        T_CHECK_MSG(config_set(&c, "run_dir", bad[i], err, sizeof(err)) == -EINVAL, "'%s'", bad[i]);
    T_EQ_INT(config_set(&c, "run_dir", longv, err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "too long"), "%s", err);
    static const char *good[] = {"a;b", "a#b", "a=b:c", "x y", "", "runs/\xce\xc8"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        config_default(&c);
        T_EQ_INT(config_set(&c, "run_dir", good[i], err, sizeof(err)), 0);
        char *text = config_to_string(&c);
        config_default(&d);
        T_EQ_INT(config_load_string(&d, text, err, sizeof(err)), 0);
        T_EQ_STR(d.run_dir, good[i]);
        free(text);
    }
    longv[150] = 0; // a long path that still fits a line
    T_EQ_INT(config_set(&c, "run_dir", longv, err, sizeof(err)), 0);
    char *text = config_to_string(&c);
    config_default(&d);
    T_EQ_INT(config_load_string(&d, text, err, sizeof(err)), 0);
    T_EQ_STR(d.run_dir, longv);
    free(text);
}

// exponent-form integers beyond long long are refused, not cast (found by fuzz_config_args:
// --seed=3.E70, undefined behaviour in the conversion)
static void test_huge_integers(void)
{
    struct rl_config c;
    char err[256];
    config_default(&c);
    T_EQ_INT(config_set(&c, "seed", "3.E70", err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "not a valid integer"), "%s", err);
    T_EQ_INT(config_set(&c, "seed", "-1e19", err, sizeof(err)), -EINVAL);
    T_EQ_INT(config_set(&c, "replay_size", "2.44445e+53", err, sizeof(err)), -EINVAL);
    T_EQ_INT(config_set(&c, "replay_size", "1e6", err, sizeof(err)), 0);
    T_EQ_INT(c.replay_size, 1000000);
}

// the actor keeps its own connection, size and log level over the run config a learner sends
static void test_keep_local(void)
{
    struct rl_config mine, run;
    char err[256];
    config_default(&mine);
    config_default(&run);
    T_EQ_INT(config_set(&mine, "learner_host", "10.1.2.3", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&mine, "control_port", "7001", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&mine, "num_envs", "3", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&mine, "log_level", "debug", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&mine, "actor_name", "a7", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&mine, "batch_size", "17", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&run, "num_envs", "64", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&run, "algo", "rldt", err, sizeof(err)), 0);
    config_keep_local(&run, &mine);
    T_EQ_STR(run.learner_host, "10.1.2.3");
    T_EQ_INT(run.control_port, 7001);
    T_EQ_INT(run.num_envs, 3);
    T_EQ_STR(run.log_level, "debug");
    T_EQ_STR(run.actor_name, "a7");
    T_EQ_STR(run.algo, "rldt");    /* a run key stays the learner's */
    T_CHECK(run.batch_size != 17); /* likewise */
    // exactly the seven keys are local
    int n = 0;
    for (size_t i = 0; i < config_nkeys; i++)
        n += (config_keys[i].flags & CONFIG_F_LOCAL) != 0;
    T_EQ_INT(n, 7);
}

// the facts table (common/algoinfo.c) and the learner's registry name the same algorithms, and
// the config takes its choices and default chunks from the facts
static void test_algo_registry(void)
{
    char err[256];
    T_EQ_INT((int)algoinfo_count(), (int)algo_count());
    for (size_t i = 0; i < algoinfo_count(); i++) {
        const struct algoinfo *ai = algoinfo_at(i);
        T_CHECK_MSG(algo_find(ai->name) != NULL, "%s has no learner code", ai->name);
        T_CHECK(algoinfo_find(ai->name) == ai);
        T_CHECK(!strcmp(policy_kind_for_algo(ai->name), ai->policy_kind));
        struct rl_config c;
        config_default(&c);
        T_CHECK_MSG(config_set(&c, "algo", ai->name, err, sizeof(err)) == 0, "%s: %s", ai->name,
                    err);
        T_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
        T_EQ_INT(c.chunk, ai->default_chunk);
    }
    T_CHECK(algoinfo_at(algoinfo_count()) == NULL && algo_at(algo_count()) == NULL);
    T_CHECK(policy_kind_for_algo("no-such-algo") == NULL);
    struct rl_config c;
    config_default(&c);
    T_EQ_INT(config_set(&c, "algo", "no-such-algo", err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, algoinfo_choices()), "%s", err);
    T_EQ_STR(algoinfo_choices(), "sac|rldt|rldt-delta|reinflow");
}

// every task the registry lists is found, including the table-top ones; env is free text
// (a plug-in may add tasks), so an unknown name is refused by validation, not by a choice list
static void test_task_choices(void)
{
    const char *names = task_names();
    int n = 0;
    for (const char *p = names; *p; n++) {
        char name[64];
        size_t len = strcspn(p, ",");
        snprintf(name, sizeof(name), "%.*s", (int)len, p);
        T_CHECK_MSG(task_find(name) != NULL, "task '%s' is listed but not found", name);
        p += len;
        p += strspn(p, ", ");
    }
    T_CHECK(n >= 6);
    struct rl_config c;
    char err[256];
    config_default(&c);
    snprintf(c.env, sizeof(c.env), "%s", "no-such-task");
    T_CHECK(config_validate(&c, err, sizeof(err)) < 0 && strstr(err, "unknown task"));
}

static void test_file_errors(void)
{
    struct rl_config c;
    char err[256];
    config_default(&c);
    T_EQ_INT(config_load_string(&c, "[run]\nseed = 3\n\nbogus_key = 1\n", err, sizeof(err)),
             -EINVAL);
    T_CHECK_MSG(strstr(err, "line 4") && strstr(err, "bogus_key"), "%s", err);
    T_EQ_INT(config_load_string(&c, "seed = 3\nthis line is junk\n", err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "line 2"), "%s", err);
    T_EQ_INT(config_load_string(&c, "[env]\nchunk = 999\n", err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "out of range"), "%s", err);
    T_EQ_INT(config_load_file(&c, "/nonexistent/rldt.ini", err, sizeof(err)), -ENOENT);
    // cross-key validation
    config_default(&c);
    T_EQ_INT(config_load_string(&c, "chunk = 8\nmax_episode_steps = 4\n", err, sizeof(err)), 0);
    T_EQ_INT(config_validate(&c, err, sizeof(err)), -EINVAL);
    config_default(&c);
    T_EQ_INT(config_load_string(&c, "heartbeat_secs = 1\nactor_timeout = 1.5\n", err, sizeof(err)),
             0);
    T_EQ_INT(config_validate(&c, err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "actor_timeout") && strstr(err, "heartbeat_secs"), "%s", err);
    c.actor_timeout = 2;
    T_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
}

int main(void)
{
    T_RUN(test_defaults);
    T_RUN(test_flags);
    T_RUN(test_errors);
    T_RUN(test_positional);
    T_RUN(test_file_roundtrip);
    T_RUN(test_file_errors);
    T_RUN(test_string_values);
    T_RUN(test_huge_integers);
    T_RUN(test_keep_local);
    T_RUN(test_algo_registry);
    T_RUN(test_task_choices);
    return T_DONE("config");
}
