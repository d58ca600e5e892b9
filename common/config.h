/*
 * config.h — the run configuration: one table of keys (common/config_keys.c) drives defaults,
 * `--key=value` flags, `key = value` files (INI, sections allowed), validation, `--help` and
 * the resolved file written to a run directory. Every process of a run shares struct rl_config
 * (the learner sends its resolved text to actors). Plain data: copy freely; not thread-safe
 * while being parsed, read-only afterwards.
 *
 * To add a key: add a field here and one row to the table in config_keys.c.
 */
#ifndef RL_CONFIG_H
#define RL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_STR 256
#define CONFIG_MAX_POS 8

struct rl_config {
    // [run]
    char algo[32];
    char env[32];
    char task_plugin[CONFIG_STR];
    int64_t seed;
    int64_t max_env_steps;
    char run_dir[CONFIG_STR];
    bool resume;
    int actors;
    char log_level[16];
    double checkpoint_secs;
    // [env]
    int num_envs;
    int chunk;
    int max_episode_steps;
    char model_file[CONFIG_STR];
    bool pixels;           /* observations carry a camera image */
    int image_size;        /* its side in pixels (square RGB) */
    char pixel_camera[64]; /* the model camera that takes them */
    // [eval]
    int episodes;
    char policy[CONFIG_STR];
    bool deterministic;
    bool json;
    // [bench]
    double secs;
    int threads;
    double fleet_sps;
    // [net]
    char bind_host[CONFIG_STR];
    char learner_host[CONFIG_STR];
    int control_port;
    int data_port;
    int params_port;
    char stats[CONFIG_STR];
    // [learner]
    int64_t replay_size;
    int64_t min_replay;
    double updates_per_step;
    bool collect_only; /* store what actors send, never train */
    int64_t ingest_slack;
    int64_t max_policy_lag;
    double obs_limit; /* value limits on ingested segments */
    double action_limit;
    double reward_limit;
    int publish_every;
    double publish_secs;
    double fresh_frac;
    int64_t fresh_window;
    double success_threshold; /* sparse-reward mode (replay_set_sparse) */
    bool stratify;
    double metrics_secs;
    int keep_checkpoints;
    double replay_save_secs;
    // [actor]
    int segment_len;
    int send_hwm;
    double heartbeat_secs;
    double actor_timeout;
    char actor_name[64];
    char actor_role[16];
    int64_t eval_every;
    int eval_episodes;
    bool eval_stochastic;
    int video_every;
    int video_size;
    // [render]
    int width;
    int height;
    char camera[64];
    // [train]
    double gamma;
    int batch_size;
    double tau;
    int64_t warmup_steps;
    // [sac]
    int sac_hidden;
    int sac_layers;
    double sac_lr;
    double sac_alpha_lr;
    double sac_init_alpha;
    // [flow]
    int flow_hidden;
    int flow_depth;
    int flow_temb;
    int flow_steps;
    bool flow_small_batch;
    // [pretrain]
    char dataset[CONFIG_STR];
    char out[CONFIG_STR];
    int64_t collect_steps;
    double demo_noise;
    int64_t pretrain_steps;
    int pretrain_batch;
    double pretrain_lr;
    double ema_decay;
    int pretrain_threads;
    // [dataset]
    char layout[32];
    bool force;
    // [auth]
    char auth[16];
    char curve_server_key[CONFIG_STR];
    char curve_client_key[CONFIG_STR];
    char curve_allow[CONFIG_STR];
    // [rldt]
    char base_policy[CONFIG_STR];
    int rldt_particles;
    double rldt_consistency;
    double rldt_trust;
    double rldt_actor_lr;
    int64_t rldt_actor_warmup;
    int rldt_actor_batch;
    int64_t rldt_actor_every;
    int64_t rldt_actor_start;
    int64_t rldt_actor_every0;
    int64_t rldt_actor_ramp;
    double rldt_warmup_tau;
    int64_t rldt_trust_refresh;
    double rldt_critic_lr;
    double rldt_critic_wd;
    int rldt_critic_hidden;
    int rldt_critic_depth;
    double rldt_lambda;
    int rldt_td_horizon;
    int rldt_target_samples;
    int rldt_critic_round;
    int rldt_target_reuse;
    double rldt_reward_ema;
    bool rldt_clip_targets;
    bool rldt_actor_min;
    int rldt_threads;
    double rldt_encoder_lr_div;
    bool rldt_freeze_actor_encoder;
    double rldt_actor_encoder_lr;
    bool rldt_freeze_critic_encoder;
    bool rldt_state_critic;
    // [reinflow]
    double reinflow_std_min;
    double reinflow_std_max;
    int reinflow_noise_hidden;
    int64_t reinflow_batch;
    int reinflow_minibatch;
    int reinflow_epochs;
    double reinflow_clip;
    double reinflow_lambda;
    double reinflow_actor_lr;
    double reinflow_noise_lr;
    double reinflow_critic_lr;
    double reinflow_critic_wd;
    int reinflow_critic_hidden;
    int reinflow_critic_depth;
    double reinflow_ent;
    double reinflow_grad_clip;
    int reinflow_critic_warmup;
    bool reinflow_reward_scale;
};

enum config_type {
    CONFIG_T_INT,  /* int */
    CONFIG_T_I64,  /* int64_t */
    CONFIG_T_DBL,  /* double */
    CONFIG_T_BOOL, /* bool: true/false/1/0/yes/no/on/off */
    CONFIG_T_STR,  /* char[CONFIG_STR] */
    CONFIG_T_ENUM, /* char[32], one of `choices` ("a|b|c") */
};

struct config_key {
    const char *section;
    const char *name;
    enum config_type type;
    size_t offset;
    size_t size; /* field size in bytes (strings) */
    double min, max;
    const char *def;     /* default, as text */
    const char *choices; /* enums: "a|b|c" */
    const char *help;
    unsigned flags; /* CONFIG_F_* */
    /* or the values come from a registry: enums its choices ("a|b|c"), strings the known values
     * --help lists (plug-ins may add more); NULL: none */
    const char *(*choices_of)(void);
};

/* Key flags. LOCAL: a setting of the actor's own process (where it connects, its size, its log
 * level) that the run config a learner sends does not override. */
#define CONFIG_F_LOCAL 1u

/* Find a key by name ('-' and '_' are interchangeable). Returns NULL if unknown. */
const struct config_key *config_find(const char *name);

/* Copy the CONFIG_F_LOCAL keys of src into dst (the rest of dst stays). */
void config_keep_local(struct rl_config *dst, const struct rl_config *src);

/* The key table and its length (config_keys.c). */
extern const struct config_key config_keys[];
extern const size_t config_nkeys;

/* Fill c with every key's default. */
void config_default(struct rl_config *c);

/*
 * Set one key from text, with type and range checks. Returns 0, or -EINVAL with a one-line
 * reason in err (e.g. "max_env_steps: 0 is below the minimum 1").
 */
int config_set(struct rl_config *c, const char *key, const char *value, char *err, size_t errlen);

/*
 * Load a `key = value` INI file (sections allowed, `#`/`;` comments). Relative paths of files
 * rldt reads (base_policy, model_file, policy, dataset, curve_* keys) resolve against the
 * file's directory (made absolute). 0 or -errno + err.
 */
int config_load_file(struct rl_config *c, const char *path, char *err, size_t errlen);

/* Same, from text (the run config a learner sends to actors); paths are left as they are. */
int config_load_string(struct rl_config *c, const char *text, char *err, size_t errlen);

/*
 * Parse command-line arguments argv[1..argc) in order: `--key=value`, `--key value`, `--flag`
 * / `--no-flag` for booleans, `--config=FILE` loads a file at that point. Arguments not
 * starting with "--" are positional: stored in pos[0..*npos) (borrowed from argv; at most
 * CONFIG_MAX_POS; pass pos NULL to refuse any). Returns 0, 1 when --help or -h was given, or
 * -EINVAL with a one-line reason in err.
 */
int config_parse_args(struct rl_config *c, int argc, char **argv, const char **pos, int *npos,
                      char *err, size_t errlen);

/*
 * Resolve keys whose default depends on others (chunk 0 → the algorithm's default), then
 * cross-key checks. 0 or -EINVAL + err.
 */
int config_validate(struct rl_config *c, char *err, size_t errlen);

/*
 * Make the relative paths of the keys config_load_file resolves absolute against dir (NULL =
 * the working directory). 0 or -errno + err (a path too long).
 */
int config_resolve_paths(struct rl_config *c, const char *dir, char *err, size_t errlen);

/*
 * Keep only the file name of every path the config holds (inputs as config_resolve_paths
 * knows them, and the out / run_dir outputs): for configs written into files people share
 * (policies), which must not carry this machine's directories.
 */
void config_strip_dirs(struct rl_config *c);

/* Write every key as `key = value` grouped by [section], with help comments. */
void config_write(const struct rl_config *c, FILE *f);

/* Write to path atomically (temp file + rename). 0 or -errno. */
int config_save(const struct rl_config *c, const char *path);

/* The resolved config as INI text; caller owns the result (free()). NULL on ENOMEM. */
char *config_to_string(const struct rl_config *c);

/*
 * Print the keys of the listed sections and of single keys written with a leading '-'
 * ("run,env,-json"; NULL = all) as `--name=<type>` lines with help, default and range.
 */
void config_help(FILE *f, const char *sections);

/*
 * The usual front end of a command: defaults, parse args, validate. On --help prints `usage`
 * and the keys of `sections` (sections or key names, as config_help) to stdout and returns 1; on
 * error prints "<prog>: <reason>" to stderr and returns 2; 0 when the caller should proceed.
 */
int config_cli(struct rl_config *c, const char *prog, const char *usage, const char *sections,
               int argc, char **argv, const char **pos, int *npos);

#endif
