/*
 * fleet_sim.h — many simulated actors in one process, for `rldt bench fleet`: each has the real
 * sockets of an actor (DEALER control, PUSH data, SUB params) and speaks the real protocol
 * (Hello/Welcome session, heartbeats, a ParamsRequest, segments, Bye), with fake physics:
 * segments of random observations of the task's shape, sent at a fixed env-step rate.
 *
 * Times are CLOCK_REALTIME seconds (rl_wall()), shared with the learner's publish stamps.
 */
#ifndef RL_FLEET_SIM_H
#define RL_FLEET_SIM_H

#include <stdint.h>

#include "common/config.h"

struct fleet_sim_config {
    const struct rl_config *c; /* env, chunk, segment_len, heartbeat_secs, ports, send_hwm */
    int first;                 /* index of this process's first actor (names) */
    int n;                     /* actors in this process */
    double sps;                /* env steps/s each actor sends */
    double window;             /* wall time: segments sent from here on are counted apart */
    double send_until;         /* wall time: stop sending segments (the window's end) */
    double until;              /* wall time: say Bye and exit */
    int out_fd;                /* where the results go (a struct fleet_sim_totals, then records) */
    int raw_port;              /* > 0: the raw reference instead: only SUB sockets, to this port
                                * of a bare PUB sending fleet_raw_header + payload */
};

/* The start of a raw reference message (the rest is padding to the params' size). */
struct fleet_raw_header {
    uint64_t version;
    uint64_t publish_ns;
};

/* Counters of one simulated-actor process. */
struct fleet_sim_totals {
    uint64_t registered;      /* Welcomes accepted */
    uint64_t refused;         /* Welcomes refused */
    uint64_t segments_due;    /* segments the rate asked for until send_until */
    uint64_t segments_sent;   /* segments zmq accepted for sending */
    uint64_t segments_window; /* of which sent in [window, send_until) */
    uint64_t send_stalls;     /* sends refused at the high-water mark (retried later) */
    uint64_t heartbeats;      /* sent */
    uint64_t acks;            /* heartbeat acks received */
    uint64_t params_sub;      /* Params received on the SUB sockets */
    uint64_t params_req;      /* Params received as the answer to a ParamsRequest */
    uint64_t bad_messages;    /* messages that did not decode (should stay 0) */
    uint64_t params_bytes;    /* size of the last Params received on SUB */
    uint64_t nrec;            /* struct fleet_receipt records that follow */
};

/* One Params received on a SUB socket. */
struct fleet_receipt {
    uint32_t actor; /* index within the fleet */
    uint32_t pad;
    uint64_t version;
    uint64_t publish_ns; /* the learner's stamp */
    uint64_t recv_ns;    /* when zmq handed it over */
};

/*
 * Run the simulated actors until f->until, then write the totals and the receipts to
 * f->out_fd. Creates its own zmq context (call it in a forked child). Returns 0 or a negative
 * errno (nothing written then).
 */
int fleet_sim_run(const struct fleet_sim_config *f);

#endif
