/*
 * wire.h — the actor <-> learner messages (proto/rldt.proto) as plain C structs: pack into a
 * caller buffer without allocating, decode into memory owned by a reusable decoder, and
 * structural validation of everything that comes off the network.
 *
 * Thread-safety: wire_pack, wire_packed_size and wire_check are pure. A wire_decoder is used by
 * one thread at a time. Arrays and strings in a decoded message are borrowed from the decoder
 * and valid until its next wire_decode or wire_decoder_destroy. No protobuf-c types leak here.
 */
#ifndef RL_WIRE_H
#define RL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The protocol version carried in every envelope; a peer speaking another one gets -EPROTO. */
#define WIRE_PROTOCOL_VERSION 2

/* Structural limits, checked on decode (and by wire_check). */
#define WIRE_NAME_MAX 255           /* actor name, task, algo (bytes) */
#define WIRE_REASON_MAX 1023        /* refusal / bye reason (bytes) */
#define WIRE_CONFIG_MAX (256 << 10) /* resolved run config text (bytes) */
#define WIRE_T_MAX 4096             /* chunk steps per segment */
#define WIRE_DIM_MAX 4096           /* obs_dim, act_dim, H, and D = H * act_dim */
#define WIRE_ENVS_MAX 4096          /* envs per actor */
#define WIRE_EPISODES_MAX 4096      /* episode summaries per segment */
#define WIRE_IMAGE_SIDE_MAX 512     /* camera image height and width (pixels) */
#define WIRE_IMAGE_C_MAX 4          /* channels per pixel */
#define WIRE_CHAIN_MAX 65           /* states x_0..x_N of a chain per chunk step (N <= 64) */

enum wire_type {
    WIRE_NONE = 0,
    WIRE_HELLO,
    WIRE_WELCOME,
    WIRE_HEARTBEAT,
    WIRE_HEARTBEAT_ACK,
    WIRE_BYE,
    WIRE_PARAMS_REQUEST,
    WIRE_SEGMENT,
    WIRE_PARAMS,
    WIRE_EVAL_REPORT,
};

/* The secret of one registration (rldt.proto: Sessions). All zero: none (sent as absent). */
#define WIRE_SESSION_LEN 16
struct wire_session {
    uint8_t b[WIRE_SESSION_LEN];
};

/* True when s is set (not all zero). */
bool wire_session_set(const struct wire_session *s);

/* True when a and b are the same session (time independent of where they differ). */
bool wire_session_equal(const struct wire_session *a, const struct wire_session *b);

/*
 * The shape of the camera images that go with observations: h x w pixels of c uint8 channels
 * (row-major, channels last). All zero: no images; otherwise h, w in 1..WIRE_IMAGE_SIDE_MAX and
 * c in 1..WIRE_IMAGE_C_MAX.
 */
struct wire_image_shape {
    uint32_t h, w, c;
};

/* Bytes of one image of shape s (0 for none). */
size_t wire_image_bytes(const struct wire_image_shape *s);

/*
 * Strings are NUL-terminated. On pack a NULL string is sent as "". Names (name, task, algo)
 * are 1..WIRE_NAME_MAX printable ASCII bytes; reasons and config are text (no control bytes
 * other than tab, CR, LF).
 */

/* actor -> learner (control): register. */
struct wire_hello {
    const char *name; /* e.g. "host:pid" */
    uint32_t pid;
    uint32_t num_envs;             /* 1..WIRE_ENVS_MAX */
    const char *task;              /* e.g. "hopper" */
    uint32_t obs_dim;              /* 1..WIRE_DIM_MAX */
    uint32_t act_dim;              /* 1..WIRE_DIM_MAX */
    uint32_t chunk_h;              /* H, 1..WIRE_DIM_MAX, with H * act_dim <= WIRE_DIM_MAX */
    uint64_t known_epoch;          /* run epoch the actor last knew, 0 if none */
    bool evaluator;                /* reports evaluations */
    struct wire_image_shape image; /* of its observations; zero: none */
};

/* learner -> actor (control): the answer to hello. */
struct wire_welcome {
    bool accepted;
    const char *reason; /* why refused, may be empty */
    uint32_t actor_id;
    uint64_t run_epoch; /* >= 1 when accepted */
    const char *config; /* resolved run config (INI text), non-empty when accepted */
    uint64_t param_version;
    uint64_t seed;               /* base seed for the actor's RNGs */
    uint64_t stream_base;        /* first RNG stream for its envs */
    struct wire_session session; /* set when accepted */
    const char *policy_kind;     /* the sampler actors run; empty: the algorithm's default */
};

/* actor -> learner (control): liveness, progress and backpressure counters. */
struct wire_heartbeat {
    uint32_t actor_id;
    uint64_t run_epoch; /* >= 1 */
    uint64_t env_steps;
    uint64_t episodes;
    uint64_t policy_version;
    float steps_per_sec; /* finite, >= 0 */
    uint64_t segments_sent;
    uint32_t send_queue;  /* segments waiting to be sent */
    uint64_t send_stalls; /* sends that hit the high-water mark */
    float send_wait_s;    /* seconds blocked on sends so far; finite, >= 0 */
    struct wire_session session;
};

/* learner -> actor (control): the answer to a heartbeat. */
struct wire_heartbeat_ack {
    uint64_t run_epoch; /* >= 1, or 0 with register_again */
    uint64_t param_version;
    bool stop;           /* the run is over: exit */
    uint64_t env_steps;  /* env steps the learner has ingested */
    bool register_again; /* unknown session: register again */
};

/* evaluator -> learner (control): a deterministic evaluation of one params version. */
struct wire_eval_report {
    uint32_t actor_id;
    uint64_t run_epoch; /* >= 1 */
    uint64_t policy_version;
    uint64_t env_steps; /* learner env steps when the evaluation was due */
    float return_mean;  /* finite */
    float return_std;   /* finite, >= 0 */
    float length_mean;  /* finite, >= 0 */
    uint32_t episodes;  /* >= 1 */
    struct wire_session session;
    uint32_t successes; /* <= episodes: evaluation episodes that ended in success */
};

/* either way (control): leaving. */
struct wire_bye {
    uint32_t actor_id;
    uint64_t run_epoch; /* may be 0 */
    const char *reason;
    struct wire_session session;
};

/* actor -> learner (control): ask for the current weights. */
struct wire_params_request {
    uint32_t actor_id;
    uint64_t run_epoch;    /* >= 1 */
    uint64_t have_version; /* 0 if none */
    struct wire_session session;
};

/*
 * actor -> learner (data): T consecutive chunk steps of one env.
 * Shapes: obs (T+1, obs_dim), actions (T, D) with D = H * act_dim, rewards/steps/terminal/
 * truncated (T). rewards[t] is summed over the env steps executed by chunk t, steps[t] in 1..D
 * (a chunk stops early at an episode end). Flags are 0/1; an episode end can only be the last
 * chunk step (obs[T] is then the final observation). Episode summaries: n_episodes parallel
 * entries (return finite, length >= 1). All floats finite.
 */
struct wire_segment {
    uint64_t run_epoch; /* >= 1 */
    uint32_t actor_id;
    uint32_t env_id;
    uint64_t seq;            /* per actor, increasing */
    uint64_t policy_version; /* params version that acted */
    uint32_t T;              /* 1..WIRE_T_MAX */
    uint32_t obs_dim;        /* 1..WIRE_DIM_MAX */
    uint32_t D;              /* 1..WIRE_DIM_MAX */
    const float *obs;
    const float *actions;
    const float *rewards;
    const uint32_t *steps;
    const uint8_t *terminal;
    const uint8_t *truncated;
    bool episode_start;  /* obs[0] is the first observation of an episode */
    uint32_t n_episodes; /* 0..WIRE_EPISODES_MAX */
    const float *episode_return;
    const uint32_t *episode_len;
    struct wire_session session;
    const uint8_t *episode_success; /* (n_episodes) 0/1; NULL: not reported */
    struct wire_image_shape image;  /* zero: the segment carries no images */
    const uint8_t *images;          /* (T+1, h, w, c) uint8: the image of each obs row */
    /* the noisy denoising chain of each chunk step (ReinFlow); chain_len 0: none */
    uint32_t chain_len;      /* floats per chunk step, k * D with k in 2..WIRE_CHAIN_MAX */
    const float *chain;      /* (T, chain_len): x_0..x_N in the policy's action space */
    const float *chain_logp; /* (T): log-likelihood of x_1..x_N given x_0 */
};

/*
 * learner -> actors (PUB, or the reply to a params request): a weight snapshot.
 * Bounds are either absent (dim 0) or finite with lo <= hi elementwise. Weights are finite
 * and non-empty unless stop is set.
 */
struct wire_params {
    uint64_t run_epoch; /* >= 1 */
    uint64_t version;
    uint64_t layout_hash;
    const char *algo;
    size_t n_weights;
    const float *weights;
    uint32_t obs_dim; /* length of obs_lo and obs_hi, 0..WIRE_DIM_MAX */
    const float *obs_lo;
    const float *obs_hi;
    uint32_t act_dim; /* length of act_lo and act_hi, 0..WIRE_DIM_MAX */
    const float *act_lo;
    const float *act_hi;
    bool stop;                /* the run is over: actors exit */
    uint64_t publish_unix_ns; /* publish time, CLOCK_REALTIME ns (0: unset); one host's
                               * clock, so only a latency between processes of one host */
};

/* wire_msg.version after a decode that could not read the envelope at all. */
#define WIRE_VERSION_UNREAD UINT32_MAX

/* One message: the type selects the union member. */
struct wire_msg {
    enum wire_type type;
    uint32_t version; /* on pack: 0 means WIRE_PROTOCOL_VERSION; on decode: as received */
    union {
        struct wire_hello hello;
        struct wire_welcome welcome;
        struct wire_heartbeat heartbeat;
        struct wire_heartbeat_ack heartbeat_ack;
        struct wire_bye bye;
        struct wire_params_request params_request;
        struct wire_segment segment;
        struct wire_params params;
        struct wire_eval_report eval_report;
    };
};

/* The name of a message type ("segment", ...), "none" for WIRE_NONE or unknown values. */
const char *wire_type_name(enum wire_type t);

/*
 * Serialized size of m in bytes (0 if m->type is not a message type). Arrays are read with
 * the lengths implied by the dims, which must therefore match the buffers (programmer error).
 */
size_t wire_packed_size(const struct wire_msg *m);

/*
 * Serialize m into buf[0..cap) without allocating; *len gets the size. Values are not
 * validated (see wire_check); the version is written as given (0 -> current).
 * Returns 0, -ENOSPC if cap is too small (buf untouched), or -EINVAL for a bad type.
 * Nullable: buf when cap is 0.
 */
int wire_pack(const struct wire_msg *m, uint8_t *buf, size_t cap, size_t *len);

/*
 * Upper bounds on packed sizes, for sizing send buffers and decoders: any valid segment of these
 * dims (any ids and values), any params of these sizes, any valid control message.
 */
size_t wire_segment_bound(uint32_t T, uint32_t obs_dim, uint32_t D, uint32_t n_episodes);
/* Extra bytes a segment of T chunk steps needs for images of shape s (0 without images). */
size_t wire_segment_image_bound(uint32_t T, const struct wire_image_shape *s);

/* The bytes a segment's chain fields add to wire_segment_bound (T steps of chain_len floats). */
size_t wire_chain_bound(uint32_t T, uint32_t chain_len);
size_t wire_params_bound(size_t n_weights, uint32_t obs_dim, uint32_t act_dim);
#define WIRE_CONTROL_BOUND (WIRE_CONFIG_MAX + WIRE_REASON_MAX + 512)

/*
 * Structural validation, the same that wire_decode applies: protocol version, dims and lengths
 * in range, floats finite, flags 0/1, strings bounded and printable. Semantic checks (known
 * actor, dims of the run, policy lag) are the receiver's. Returns 0 or -EPROTO with a one-line
 * reason in err. Nullable: err (errlen ignored then).
 */
int wire_check(const struct wire_msg *m, char *err, size_t errlen);

/* ---- decoding ---------------------------------------------------------------------------- */

struct wire_decoder;

/*
 * A decoder for messages of at most max_msg_bytes (> 0). It owns one arena, sized from
 * max_msg_bytes, that protobuf-c unpacks into; the arena is reset on each decode, so decoding
 * never allocates. Returns NULL on allocation failure. Caller owns; free with
 * wire_decoder_destroy().
 */
struct wire_decoder *wire_decoder_new(size_t max_msg_bytes);

/* Free the decoder and its arena; sets *d to NULL. Nullable: d, *d. */
void wire_decoder_destroy(struct wire_decoder **d);

/*
 * Decode and validate buf[0..len). On success out holds the message; its strings and arrays
 * are borrowed from d until the next decode on d. Returns 0, or: -EMSGSIZE if len exceeds the
 * decoder's maximum or the decoded form does not fit the arena, -EPROTO for malformed bytes,
 * another protocol version or a structural violation; err gets a one-line reason and out->type
 * is WIRE_NONE (out->version holds the received version when the envelope was readable, 0 when
 * absent, and WIRE_VERSION_UNREAD when it was not, so a learner can tell an old peer from noise).
 * Nullable: buf when len is 0, err.
 */
int wire_decode(struct wire_decoder *d, const void *buf, size_t len, struct wire_msg *out,
                char *err, size_t errlen);

/* Bytes of arena the decoder has ever used at once (its high-water mark). */
size_t wire_decoder_high_water(const struct wire_decoder *d);

/* Arena capacity in bytes (fixed at creation). */
size_t wire_decoder_capacity(const struct wire_decoder *d);

/* ---- building segments --------------------------------------------------------------------- */

#define WIRE_SEGBUF_EPISODES 8 /* episode summaries a segbuf holds */

/*
 * A per-env segment buffer: the actor records chunk steps into it and views it as a
 * wire_segment to pack. Embedded by the caller (wire_segbuf_init / wire_segbuf_fini).
 * obs has room for T_max + 1 rows.
 */
struct wire_segbuf {
    uint32_t obs_dim;
    uint32_t D;
    uint32_t T_max;
    uint32_t T; /* chunk steps recorded */
    bool episode_start;
    bool ended;         /* the last recorded step ended an episode */
    bool has_obs0;      /* wire_segbuf_start or _carry was called */
    float *obs;         /* (T_max+1, obs_dim) */
    float *actions;     /* (T_max, D) */
    float *rewards;     /* (T_max) */
    uint32_t *steps;    /* (T_max) */
    uint8_t *terminal;  /* (T_max) */
    uint8_t *truncated; /* (T_max) */
    uint32_t n_episodes;
    float episode_return[WIRE_SEGBUF_EPISODES];
    uint32_t episode_len[WIRE_SEGBUF_EPISODES];
    uint8_t episode_success[WIRE_SEGBUF_EPISODES];
    struct wire_image_shape image; /* zero: no images */
    uint8_t *images;               /* (T_max+1, h, w, c), NULL without images */
    uint32_t chain_len;            /* 0 unless wire_segbuf_set_chain was called */
    float *chain;                  /* (T_max, chain_len) */
    float *chain_logp;             /* (T_max) */
};

/* Allocate buffers for segments of up to T_max chunk steps. Returns 0, -EINVAL or -ENOMEM. */
int wire_segbuf_init(struct wire_segbuf *b, uint32_t obs_dim, uint32_t D, uint32_t T_max);

/*
 * Give an initialised segbuf room for one image of shape s per observation row (call before
 * recording; a zero shape removes it). Returns 0, -EINVAL for a bad shape or -ENOMEM (b keeps
 * its old image buffer then).
 */
int wire_segbuf_set_image(struct wire_segbuf *b, const struct wire_image_shape *s);

/*
 * The image row of the observation recorded last (by _start, _carry or _push), to be filled by
 * the caller after that call: wire_image_bytes(&b->image) bytes, NULL without images. Borrowed.
 */
uint8_t *wire_segbuf_last_image(struct wire_segbuf *b);

/* Free the buffers (safe on a zeroed or already finished struct). */
void wire_segbuf_fini(struct wire_segbuf *b);

/*
 * Make every later step carry a chain of chain_len floats and its log-likelihood (wire_segbuf_
 * chain). Call before the first push. Returns 0, -EINVAL (chain_len not k * D with k in
 * 2..WIRE_CHAIN_MAX) or -ENOMEM.
 */
int wire_segbuf_set_chain(struct wire_segbuf *b, uint32_t chain_len);

/*
 * Attach the chain (chain_len floats) and its log-likelihood to the step pushed last. Returns 0,
 * or -EINVAL when no step is recorded or the buffer carries no chains.
 */
int wire_segbuf_chain(struct wire_segbuf *b, const float *chain, float logp);

/* Begin a segment at observation obs0 (obs_dim floats); forgets any recorded steps. */
void wire_segbuf_start(struct wire_segbuf *b, const float *obs0, bool episode_start);

/*
 * Begin the next segment where the last one stopped (its last observation, episode_start
 * false). Returns 0, or -EINVAL if nothing was recorded or the last step ended an episode
 * (call wire_segbuf_start with the reset observation then).
 */
int wire_segbuf_carry(struct wire_segbuf *b);

/*
 * Record one chunk step: the flattened chunk (D floats), the summed reward, env steps executed,
 * the observation after it (obs_dim floats) and the end flags. Returns 0, -ENOSPC when full,
 * or -EINVAL if no segment was started or an episode already ended in it.
 */
int wire_segbuf_push(struct wire_segbuf *b, const float *action, float reward, uint32_t steps,
                     const float *next_obs, bool terminal, bool truncated);

/* Attach a finished-episode summary (up to WIRE_SEGBUF_EPISODES per segment). Returns 0 or -ENOSPC.
 */
int wire_segbuf_add_episode(struct wire_segbuf *b, float ret, uint32_t len, bool success);

/* True when T_max chunk steps are recorded or the last one ended an episode. */
bool wire_segbuf_ready(const struct wire_segbuf *b);

/*
 * Point s's arrays and dims at b's contents (borrowed until b changes); ids, seq, run epoch
 * and policy version are the caller's to set.
 */
void wire_segbuf_view(const struct wire_segbuf *b, struct wire_segment *s);

#endif
