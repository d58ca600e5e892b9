/*
 * config_keys.c — THE table of configuration keys: name, type, default, range, help.
 * Sections group keys in files and in --help; key names are unique across sections.
 */
#include <stddef.h>

#include "common/config.h"

#define K(sec, field, type, min, max, def, choices, help)                                          \
    {sec,  #field, type, offsetof(struct rl_config, field), sizeof(((struct rl_config *)0)->field), \
     min,  max,    def,  choices,                           help}
#define BIG 1e15

const struct config_key config_keys[] = {
    // ---- run
    K("run", algo, CONFIG_T_ENUM, 0, 0, "sac", "sac|rldt|rldt-delta", "training algorithm"),
    K("run", env, CONFIG_T_ENUM, 0, 0, "hopper", "hopper|walker2d|halfcheetah", "task"),
    K("run", seed, CONFIG_T_I64, 0, 4611686018427387903.0, "1",
      NULL, "run seed; every random stream (actor, env, learner) derives from it"),
    K("run", max_env_steps, CONFIG_T_I64, 1, BIG, "1000000", NULL,
      "stop the run after this many environment steps"),
    K("run", run_dir, CONFIG_T_STR, 0, 0, "", NULL,
      "run directory (config, metrics.csv, log, checkpoints); empty = runs/<algo>-<env>"),
    K("run", resume, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "continue from the newest valid checkpoint in the run directory"),
    K("run", actors, CONFIG_T_INT, 1, 256, "2", NULL, "actor processes `rldt run` starts"),
    K("run", log_level, CONFIG_T_ENUM, 0, 0, "info", "debug|info|warn|error", "log level"),
    K("run", checkpoint_secs, CONFIG_T_DBL, 1, 1e7, "300", NULL,
      "seconds between learner checkpoints"),
    // ---- env
    K("env", num_envs, CONFIG_T_INT, 1, 4096, "8", NULL, "simulators per actor process"),
    K("env", chunk, CONFIG_T_INT, 1, 64, "4", NULL,
      "action chunk H: actions executed open loop per policy call"),
    K("env", max_episode_steps, CONFIG_T_INT, 1, 1000000, "1000", NULL,
      "time limit: episodes are truncated (not terminated) after this many steps"),
    K("env", model_file, CONFIG_T_STR, 0, 0, "", NULL,
      "MJCF file to load instead of the task's built-in model"),
    // ---- eval
    K("eval", episodes, CONFIG_T_INT, 1, 1000000, "20", NULL, "episodes to evaluate"),
    K("eval", policy, CONFIG_T_STR, 0, 0, "random", NULL,
      "policy to evaluate: random, zero, or a checkpoint file"),
    K("eval", deterministic, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "deterministic actions (flow: x0 = 0; Gaussian: the mean)"),
    K("eval", json, CONFIG_T_BOOL, 0, 0, "false", NULL, "print one JSON line instead of text"),
    // ---- bench
    K("bench", secs, CONFIG_T_DBL, 0.01, 3600, "1", NULL, "seconds per benchmark measurement"),
    K("bench", threads, CONFIG_T_INT, 1, 256, "1", NULL, "OpenBLAS threads for benchmarks"),
};

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);
