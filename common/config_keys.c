/*
 * config_keys.c — THE table of configuration keys: name, type, default, range, help.
 * Sections group keys in files and in --help; key names are unique across sections.
 */
#include <stddef.h>

#include "common/algoinfo.h"
#include "common/config.h"
#include "common/task.h"

#define KR(sec, field, type, min, max, def, choices, help, flags, list)                            \
    {                                                                                              \
        sec, #field, type, offsetof(struct rl_config, field),                                      \
            sizeof(((struct rl_config *)0)->field), min, max, def, choices, help, flags, list      \
    }
#define KF(sec, field, type, min, max, def, choices, help, flags)                                  \
    KR(sec, field, type, min, max, def, choices, help, flags, NULL)
#define K(sec, field, type, min, max, def, choices, help)                                          \
    KF(sec, field, type, min, max, def, choices, help, 0)
/* a key local to the actor process (CONFIG_F_LOCAL) */
#define KL(sec, field, type, min, max, def, choices, help)                                         \
    KF(sec, field, type, min, max, def, choices, help, CONFIG_F_LOCAL)
#define BIG 1e15

const struct config_key config_keys[] = {
    // ---- run
    /* their values come from the registries: common/algoinfo.c, common/task.c */
    KR("run", algo, CONFIG_T_ENUM, 0, 0, "sac", NULL, "training algorithm", 0, algoinfo_choices),
    KR("run", env, CONFIG_T_STR, 0, 0, "hopper", NULL, "task, or a --task-plugin's task", 0,
       task_names),
    K("run", task_plugin, CONFIG_T_STR, 0, 0, "", NULL,
      "shared object defining a task (rldt_task, see actor/env_task.h); --env names it"),
    K("run", seed, CONFIG_T_I64, 0, 4611686018427387903.0, "1", NULL,
      "run seed; every random stream (actor, env, learner) derives from it"),
    K("run", max_env_steps, CONFIG_T_I64, 1, BIG, "1000000", NULL,
      "stop the run after this many environment steps"),
    K("run", run_dir, CONFIG_T_STR, 0, 0, "", NULL,
      "run directory (config, metrics.csv, log, checkpoints); empty = runs/<algo>-<env>"),
    K("run", resume, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "continue from the newest valid checkpoint in the run directory"),
    K("run", actors, CONFIG_T_INT, 1, 1024, "2", NULL,
      "actor processes `rldt run` starts (`rldt bench fleet`: simulated actors)"),
    KL("run", log_level, CONFIG_T_ENUM, 0, 0, "info", "debug|info|warn|error", "log level"),
    K("run", checkpoint_secs, CONFIG_T_DBL, 1, 1e7, "300", NULL,
      "seconds between learner checkpoints"),
    // ---- env
    KL("env", num_envs, CONFIG_T_INT, 1, 4096, "8", NULL, "simulators per actor process"),
    K("env", chunk, CONFIG_T_INT, 0, 64, "0", NULL,
      "action chunk H: actions executed open loop per policy call (0 = the algorithm's "
      "default: 1 for sac, 4 for rldt)"),
    K("env", max_episode_steps, CONFIG_T_INT, 0, 1000000, "0", NULL,
      "time limit: episodes are truncated (not terminated) after this many steps (0 = the "
      "task's: 1000 locomotion, 200 lift, 300 stack, 400 peg)"),
    K("env", model_file, CONFIG_T_STR, 0, 0, "", NULL,
      "MJCF file to load instead of the task's built-in model"),
    K("env", pixels, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "observations carry an image_size^2 RGB camera image (uint8) next to the state vector: "
      "actors render it (pixel_camera), the learner checks and stores it"),
    K("env", image_size, CONFIG_T_INT, 16, 512, "84", NULL,
      "side in pixels of the square camera images when pixels = true"),
    K("env", pixel_camera, CONFIG_T_STR, 0, 0, "default", NULL,
      "camera of the pixel observations: default (the task's: track for locomotion, front for "
      "table-top) or a model camera's name (track; front, wrist)"),
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
    K("bench", fleet_sps, CONFIG_T_DBL, 1, 1e7, "8000", NULL,
      "`rldt bench fleet`: env steps/s each simulated actor sends (8000: one core of a Hopper "
      "actor with 8 envs)"),
    // ---- net
    K("net", bind_host, CONFIG_T_STR, 0, 0, "127.0.0.1", NULL,
      "address the learner binds its sockets on (* = all interfaces)"),
    KL("net", learner_host, CONFIG_T_STR, 0, 0, "127.0.0.1", NULL,
       "host name or address actors connect to"),
    KL("net", control_port, CONFIG_T_INT, 1, 65535, "5555", NULL,
       "control socket (ROUTER): registration, heartbeats, params on request"),
    KL("net", data_port, CONFIG_T_INT, 1, 65535, "5556", NULL, "data socket (PULL): segments"),
    KL("net", params_port, CONFIG_T_INT, 1, 65535, "5557", NULL,
       "params socket (PUB): versioned weights"),
    K("net", stats, CONFIG_T_STR, 0, 0, "127.0.0.1:5558", NULL,
      "stats HTTP socket ADDR:PORT (/stats JSON, /metrics Prometheus); empty = off"),
    // ---- learner
    K("learner", replay_size, CONFIG_T_I64, 1, 1e9, "1000000", NULL,
      "replay capacity in chunk steps (bounds the learner's memory)"),
    K("learner", min_replay, CONFIG_T_I64, 1, 1e9, "5000", NULL,
      "chunk steps stored before training starts"),
    K("learner", collect_only, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "store what actors send and never train (what a pixels run does until an algorithm "
      "trains from camera images)"),
    K("learner", updates_per_step, CONFIG_T_DBL, 0, 1000, "1", NULL,
      "training steps per ingested chunk step (0 = no throttling of actors)"),
    K("learner", ingest_slack, CONFIG_T_I64, 0, 1e9, "2000", NULL,
      "chunk steps ingest may run ahead of updates_per_step before actors are held back"),
    K("learner", max_policy_lag, CONFIG_T_I64, 0, 1e12, "1000000", NULL,
      "drop segments acted by a policy more than this many versions old"),
    K("learner", obs_limit, CONFIG_T_DBL, 1, 1e30, "1e6", NULL,
      "segments with an observation beyond +-obs_limit are refused (obs_range)"),
    K("learner", action_limit, CONFIG_T_DBL, 1, 1e30, "1e3", NULL,
      "segments with an action beyond +-action_limit are refused (action_range)"),
    K("learner", reward_limit, CONFIG_T_DBL, 1, 1e30, "1e6", NULL,
      "segments with a chunk reward beyond +-reward_limit, or an episode return beyond "
      "+-reward_limit per env step, are refused (reward_range)"),
    K("learner", publish_every, CONFIG_T_INT, 1, 1000000, "100", NULL,
      "training steps between parameter broadcasts"),
    K("learner", publish_secs, CONFIG_T_DBL, 0, 3600, "0", NULL,
      "also broadcast the current parameters every this many seconds, trained or not "
      "(`rldt bench fleet`; 0 = only after training steps)"),
    K("learner", fresh_frac, CONFIG_T_DBL, 0, 1, "0", NULL,
      "minimum share of each batch drawn from the freshest fresh_window chunk steps"),
    K("learner", fresh_window, CONFIG_T_I64, 1, 1e9, "10000", NULL, "chunk steps counted as fresh"),
    K("learner", success_threshold, CONFIG_T_DBL, 0, 1e9, "0", NULL,
      "sparse-reward mode (> 0): a segment succeeds when its summed reward reaches this; the "
      "steps after that leave the replay and the step reaching it is terminal"),
    K("learner", stratify, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "sparse-reward mode: the batch rows that are not fresh come in equal shares from "
      "succeeded and failed segments"),
    K("learner", metrics_secs, CONFIG_T_DBL, 0.1, 3600, "5", NULL,
      "seconds between metrics.csv rows"),
    K("learner", keep_checkpoints, CONFIG_T_INT, 1, 1000, "3", NULL, "checkpoints kept"),
    K("learner", replay_save_secs, CONFIG_T_DBL, 0, 1e7, "600", NULL,
      "seconds between saves of the replay to <run_dir>/replay.rldt, which --resume reloads "
      "(also saved at the end and on a stop); 0 = never"),
    // ---- actor
    K("actor", segment_len, CONFIG_T_INT, 1, 4096, "64", NULL,
      "chunk steps per segment message (an episode end closes a segment early)"),
    K("actor", send_hwm, CONFIG_T_INT, 1, 100000, "4", NULL,
      "segments queued per actor before sends block (backpressure)"),
    K("actor", heartbeat_secs, CONFIG_T_DBL, 0.05, 60, "1", NULL, "seconds between heartbeats"),
    K("actor", actor_timeout, CONFIG_T_DBL, 0.5, 3600, "10", NULL,
      "seconds without heartbeat before the learner marks an actor gone, or an actor "
      "re-registers"),
    KL("actor", actor_name, CONFIG_T_STR, 0, 0, "", NULL, "actor name (empty = host:pid)"),
    K("actor", actor_role, CONFIG_T_ENUM, 0, 0, "collect", "collect|eval",
      "collect: stream experience; eval: run deterministic evaluations for the learner"),
    K("actor", eval_every, CONFIG_T_I64, 0, 1e15, "20000", NULL,
      "env steps between deterministic evaluations (0 = none; `rldt run` starts an evaluator)"),
    K("actor", eval_episodes, CONFIG_T_INT, 1, 1000, "10", NULL, "episodes per evaluation"),
    K("actor", eval_stochastic, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "evaluations act as `rldt eval` does without --deterministic (as in training: flow "
      "x0 ~ N(0, I) plus the exploration noise); false = deterministic"),
    K("actor", video_every, CONFIG_T_INT, 0, 1000000, "5", NULL,
      "the evaluator records one more episode every this many evaluations (the first one "
      "included) into <run_dir>/videos/ (MP4) and TensorBoard (GIF); 0 = no videos"),
    K("actor", video_size, CONFIG_T_INT, 16, 1024, "240", NULL,
      "side in pixels of the evaluator's square videos (even; the GIF is half of it)"),
    // ---- render
    K("render", width, CONFIG_T_INT, 2, 4096, "480", NULL, "frame width in pixels (even)"),
    K("render", height, CONFIG_T_INT, 2, 4096, "480", NULL, "frame height in pixels (even)"),
    K("render", camera, CONFIG_T_STR, 0, 0, "default", NULL,
      "camera: default (the task's: track for locomotion, front for table-top), free, or a "
      "model camera's name (track; front, wrist)"),
    // ---- train
    K("train", gamma, CONFIG_T_DBL, 0, 1, "0.99", NULL, "discount per env step"),
    K("train", batch_size, CONFIG_T_INT, 1, 65536, "256", NULL, "rows per training batch"),
    K("train", tau, CONFIG_T_DBL, 0, 1, "0.005", NULL,
      "Polyak rate of the target critics after every critic step"),
    K("train", warmup_steps, CONFIG_T_I64, 0, BIG, "5000", NULL,
      "env steps with uniform random actions before the first policy weights arrive"),
    // ---- sac
    K("sac", sac_hidden, CONFIG_T_INT, 1, 4096, "256", NULL,
      "SAC hidden width (actor and critics)"),
    K("sac", sac_layers, CONFIG_T_INT, 1, 15, "2", NULL, "SAC hidden layers (ReLU)"),
    K("sac", sac_lr, CONFIG_T_DBL, 0, 1, "3e-4", NULL, "SAC Adam learning rate (actor, critics)"),
    K("sac", sac_alpha_lr, CONFIG_T_DBL, 0, 1, "1e-3", NULL,
      "Adam learning rate of log alpha (0 = fixed temperature)"),
    K("sac", sac_init_alpha, CONFIG_T_DBL, 1e-8, 1e4, "1.0", NULL,
      "initial entropy temperature alpha (tuned toward entropy -D)"),
    // ---- flow
    K("flow", flow_hidden, CONFIG_T_INT, 1, 4096, "512", NULL,
      "flow velocity net: width of the residual ReLU trunk"),
    K("flow", flow_depth, CONFIG_T_INT, 1, 15, "3", NULL, "flow velocity net: hidden layers"),
    K("flow", flow_temb, CONFIG_T_INT, 2, 1024, "16", NULL,
      "flow time embedding size (even): sinusoidal(n) -> Linear(n,2n) -> Mish -> Linear(2n,n)"),
    K("flow", flow_steps, CONFIG_T_INT, 1, 1000, "8", NULL,
      "Euler steps N of the flow sampler (t_k = k/N)"),
    K("flow", flow_small_batch, CONFIG_T_BOOL, 0, 0, "true", NULL,
      "actors: batches of at most 32 envs through weights pre-packed for an AVX2/FMA kernel "
      "(about 2x OpenBLAS at 8 rows); false = OpenBLAS sgemm for every batch"),
    // ---- pretrain
    K("pretrain", dataset, CONFIG_T_STR, 0, 0, "", NULL, "dataset file (rldt collect, pretrain)"),
    K("pretrain", out, CONFIG_T_STR, 0, 0, "", NULL,
      "output file (collect: dataset; pretrain: policy checkpoint)"),
    K("pretrain", collect_steps, CONFIG_T_I64, 1, 1e10, "1000000", NULL,
      "environment steps `rldt collect` records (--steps=N is short for it)"),
    K("pretrain", demo_noise, CONFIG_T_DBL, 0, 2, "0.3", NULL,
      "`rldt demo`: std of the Gaussian noise on each scripted action (then clipped to [-1, 1])"),
    K("pretrain", pretrain_steps, CONFIG_T_I64, 1, 1e10, "40000", NULL,
      "conditional flow matching gradient steps"),
    K("pretrain", pretrain_batch, CONFIG_T_INT, 1, 65536, "256", NULL,
      "rows (state, action chunk) per pre-training batch"),
    K("pretrain", pretrain_lr, CONFIG_T_DBL, 0, 1, "3e-4", NULL, "pre-training Adam learning rate"),
    K("pretrain", ema_decay, CONFIG_T_DBL, 0, 1, "0.995", NULL,
      "decay of the EMA copy of the weights (the copy that is saved)"),
    K("pretrain", pretrain_threads, CONFIG_T_INT, 1, 256, "2", NULL,
      "OpenBLAS threads for pre-training"),
    // ---- dataset
    K("dataset", layout, CONFIG_T_ENUM, 0, 0, "d4rl", "d4rl|minari",
      "HDF5 layout `rldt dataset-export` writes (import detects it)"),
    K("dataset", force, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "let collect, dataset-import and dataset-export replace an existing --out file"),
    // ---- auth
    K("auth", auth, CONFIG_T_ENUM, 0, 0, "none", "none|curve",
      "transport security: none, or curve (encrypted; the learner admits only allow-listed "
      "actor keys)"),
    K("auth", curve_server_key, CONFIG_T_STR, 0, 0, "", NULL,
      "learner: its key pair file (NAME.key); actors: the learner's public key (NAME.pub)"),
    K("auth", curve_client_key, CONFIG_T_STR, 0, 0, "", NULL,
      "actor: its key pair file (NAME.key from `rldt keygen`)"),
    K("auth", curve_allow, CONFIG_T_STR, 0, 0, "", NULL,
      "learner: file of allowed actor public keys, one Z85 key per line, # comments"),
    // ---- rldt
    K("rldt", base_policy, CONFIG_T_STR, 0, 0, "", NULL,
      "pre-trained flow policy file to fine-tune (required for rldt; its [flow] sizes, chunk "
      "and task must match the run's)"),
    K("rldt", rldt_particles, CONFIG_T_INT, 1, 256, "8", NULL,
      "SVGD particles K per state of an actor batch"),
    K("rldt", rldt_consistency, CONFIG_T_DBL, 0, 1e6, "0.5", NULL, "consistency loss weight"),
    K("rldt", rldt_trust, CONFIG_T_DBL, 0, 1e6, "0.2", NULL, "trust-region loss weight"),
    K("rldt", rldt_actor_lr, CONFIG_T_DBL, 0, 1, "2e-5", NULL,
      "actor (flow) Adam learning rate, no gradient clipping"),
    K("rldt", rldt_actor_warmup, CONFIG_T_I64, 0, 1e9, "20", NULL,
      "actor steps of linear learning-rate warm-up"),
    K("rldt", rldt_actor_batch, CONFIG_T_INT, 1, 65536, "256", NULL,
      "states per actor step (each with K particles)"),
    K("rldt", rldt_actor_every, CONFIG_T_I64, 1, 1e9, "16", NULL,
      "critic steps per actor step (actor steps run when a critic round ends)"),
    K("rldt", rldt_actor_start, CONFIG_T_I64, 0, 1e12, "1024", NULL,
      "critic steps before the first actor step (critic warm-up)"),
    K("rldt", rldt_actor_every0, CONFIG_T_I64, 0, 1e9, "0", NULL,
      "critic steps per actor step at the first actor step, ramped linearly to rldt_actor_every "
      "over rldt_actor_ramp actor steps (0 = no ramp)"),
    K("rldt", rldt_actor_ramp, CONFIG_T_I64, 0, 1e9, "0", NULL,
      "actor steps over which rldt_actor_every0 ramps to rldt_actor_every (0 = no ramp)"),
    K("rldt", rldt_warmup_tau, CONFIG_T_DBL, 0, 1, "0", NULL,
      "critic Polyak rate during the critic warm-up (before rldt_actor_start; 0 = tau)"),
    K("rldt", rldt_trust_refresh, CONFIG_T_I64, 1, 1e9, "32", NULL,
      "actor steps between refreshes of the frozen trust-region copy"),
    K("rldt", rldt_critic_lr, CONFIG_T_DBL, 0, 1, "1e-3", NULL, "critic AdamW learning rate"),
    K("rldt", rldt_critic_wd, CONFIG_T_DBL, 0, 1, "0.01", NULL, "critic AdamW weight decay"),
    K("rldt", rldt_critic_hidden, CONFIG_T_INT, 1, 4096, "256", NULL, "critic MLP width (SiLU)"),
    K("rldt", rldt_critic_depth, CONFIG_T_INT, 1, 15, "3", NULL, "critic MLP hidden layers"),
    K("rldt", rldt_lambda, CONFIG_T_DBL, 0, 1, "0", NULL,
      "TD(lambda) over chunk steps (0 = one-step targets; 0.5 for sparse rewards; 1 = "
      "n-step returns, n = rldt_td_horizon, at the cost of one-step targets)"),
    K("rldt", rldt_td_horizon, CONFIG_T_INT, 1, 256, "8", NULL,
      "lambda > 0: chunk steps a target looks ahead within a segment (the last bootstraps)"),
    K("rldt", rldt_target_samples, CONFIG_T_INT, 1, 64, "2", NULL,
      "policy samples M of a' per next state in the critic target"),
    K("rldt", rldt_critic_round, CONFIG_T_INT, 1, 100000, "32", NULL,
      "critic steps per round: their batches and target a' samples are drawn together"),
    K("rldt", rldt_target_reuse, CONFIG_T_INT, 1, 1000, "1", NULL,
      "times each drawn transition (with its target) is used within a round; 1 = published"),
    K("rldt", rldt_reward_ema, CONFIG_T_DBL, 0, 1, "0.01", NULL,
      "rewards are divided by an EMA of mean |r| with this rate per critic batch (0 = off)"),
    K("rldt", rldt_clip_targets, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "clip critic targets to [0, success_threshold] (sparse rewards; needs the threshold)"),
    K("rldt", rldt_actor_min, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "the transport field follows, per particle, the action gradient of the critic with the "
      "lower Q (pessimistic) instead of the two critics' mean gradient"),
    K("rldt", rldt_threads, CONFIG_T_INT, 0, 256, "0", NULL,
      "OpenBLAS threads of the learner's rldt math (0 = leave the library default)"),
    K("rldt", rldt_encoder_lr_div, CONFIG_T_DBL, 1, 1e6, "25", NULL,
      "from pixels: the critic's image encoder learns at rldt_critic_lr divided by this"),
    K("rldt", rldt_freeze_actor_encoder, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "from pixels: keep the actor's image encoder as pre-trained (else it learns with the flow)"),
    K("rldt", rldt_actor_encoder_lr, CONFIG_T_DBL, 0, 1, "0", NULL,
      "from pixels: Adam learning rate of the actor's image encoder (0 = rldt_actor_lr)"),
    K("rldt", rldt_freeze_critic_encoder, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "from pixels: the critics' image encoder stays the pre-trained copy and sees unshifted "
      "images, so each round encodes its pool once (far cheaper critic steps; else it learns)"),
    K("rldt", rldt_state_critic, CONFIG_T_BOOL, 0, 0, "false", NULL,
      "from pixels: the critics see the task's state vector instead of the camera (an asymmetric "
      "critic, for training in simulation; the policy still acts on the camera)"),
    // ---- reinflow (learner/algo/README.md, ReinFlow section)
    K("reinflow", reinflow_std_min, CONFIG_T_DBL, 1e-4, 10, "0.10", NULL,
      "lower bound of the learned noise std of each denoising step"),
    K("reinflow", reinflow_std_max, CONFIG_T_DBL, 1e-4, 10, "0.24", NULL,
      "upper bound of the learned noise std of each denoising step"),
    K("reinflow", reinflow_noise_hidden, CONFIG_T_INT, 1, 4096, "64", NULL,
      "width of the noise network's two Tanh layers"),
    K("reinflow", reinflow_batch, CONFIG_T_I64, 1, 1e7, "20000", NULL,
      "chunk steps of one policy version trained on per PPO iteration (envs x steps per env)"),
    K("reinflow", reinflow_minibatch, CONFIG_T_INT, 1, 1000000, "2500", NULL,
      "chunk steps per PPO minibatch"),
    K("reinflow", reinflow_epochs, CONFIG_T_INT, 1, 1000, "5", NULL,
      "passes over each fresh batch"),
    K("reinflow", reinflow_clip, CONFIG_T_DBL, 0, 1, "0.01", NULL,
      "PPO clip: ratios outside [1 - clip, 1 + clip] carry no gradient"),
    K("reinflow", reinflow_lambda, CONFIG_T_DBL, 0, 1, "0.95", NULL, "GAE lambda"),
    K("reinflow", reinflow_actor_lr, CONFIG_T_DBL, 0, 1, "4.5e-5", NULL,
      "Adam learning rate of the flow (velocity) network"),
    K("reinflow", reinflow_noise_lr, CONFIG_T_DBL, 0, 1, "4.5e-5", NULL,
      "Adam learning rate of the noise network"),
    K("reinflow", reinflow_critic_lr, CONFIG_T_DBL, 0, 1, "6.5e-4", NULL,
      "AdamW learning rate of the value network"),
    K("reinflow", reinflow_critic_wd, CONFIG_T_DBL, 0, 1, "1e-5", NULL,
      "AdamW weight decay of the value network"),
    K("reinflow", reinflow_critic_hidden, CONFIG_T_INT, 1, 8192, "256", NULL,
      "value network width"),
    K("reinflow", reinflow_critic_depth, CONFIG_T_INT, 1, 8, "3", NULL,
      "value network hidden layers (Mish, residual)"),
    K("reinflow", reinflow_ent, CONFIG_T_DBL, 0, 100, "0.03", NULL,
      "entropy bonus weight (mean log std of the chain's transitions)"),
    K("reinflow", reinflow_grad_clip, CONFIG_T_DBL, 0, 1e6, "0", NULL,
      "global gradient-norm clip per network and minibatch (0 = off)"),
    K("reinflow", reinflow_critic_warmup, CONFIG_T_INT, 0, 100000, "0", NULL,
      "first PPO iterations that train only the value network"),
    K("reinflow", reinflow_reward_scale, CONFIG_T_BOOL, 0, 0, "true", NULL,
      "divide rewards by the running std of the discounted return"),
};

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);
