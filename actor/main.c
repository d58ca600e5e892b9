/*
 * main.c — rldt-actor: parse the config, run the actor until the learner ends the run.
 */
#include <openblas_config.h>
#include <cblas.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "actor/actor.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"

int main(int argc, char **argv)
{
    struct rl_config c;
    int rc = config_cli(&c, "rldt-actor", "rldt-actor [--config=FILE] [--key=value ...]",
                        "run,env,net,actor,auth", argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    char role[80];
    snprintf(role, sizeof(role), "actor-%s", c.actor_name[0] ? c.actor_name : "?");
    log_set_role(role);
    log_set_level(log_level_parse(c.log_level));
    openblas_set_num_threads(1); /* actors: one BLAS thread each (deploy/rldt/BENCHMARKS.md) */
    rl_stop_on_signals();
    rc = actor_run(&c, &rl_stop_signals);
    if (rc < 0) /* whatever failed may have said why; this names the code that ended the actor */
        log_error("actor stops with an error: %s", strerror(-rc));
    return rc < 0 ? 1 : 0;
}
