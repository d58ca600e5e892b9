/*
 * main.c — rldt-learner: parse the config, run the learner until done or signalled.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "learner/learner.h"

int main(int argc, char **argv)
{
    struct rl_config c;
    int rc =
        config_cli(&c, "rldt-learner", "rldt-learner [--config=FILE] [--key=value ...]",
                   "run,env,net,learner,actor,train,sac,flow,rldt,auth", argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    log_set_role("learner");
    log_set_level(log_level_parse(c.log_level));
    rl_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    char err[512] = "";
    struct learner *l = learner_new(&c, err, sizeof(err));
    if (!l) {
        log_error("%s", err);
        return 1;
    }
    rc = learner_run(l, &rl_stop_signals);
    learner_destroy(&l);
    log_info("learner exits");
    return rc < 0 ? 1 : 0;
}
