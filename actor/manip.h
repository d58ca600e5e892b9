/*
 * manip.h — the table-top manipulation tasks (lift, stack, peg): constants and state
 * accessors shared by the task tables (actor/manip.c), the scripted demonstrators and tests.
 *
 * Scene (actor/models/tabletop.xml): the table is the plane z = 0; a parallel-jaw gripper on
 * x, y, z slides with position actuators; one actuator opens and closes both fingers. Control
 * at 20 Hz. Action (4, each in [-1, 1]): x, y, z position deltas of MANIP_STEP metres per step
 * (the target leads the gripper by at most MANIP_LEAD), then the fingers: -1 open, +1 closed.
 *
 * Observation: gripper position (3, the point between the finger pads), gripper velocity (3),
 * finger opening (1, metres between the pads), then per object its position (3), orientation
 * (quaternion w x y z, 4) and position relative to the gripper (object - gripper, 3), then the
 * goal where there is one (peg: the peg's base, 3). lift 17, stack 27, peg 20.
 * Objects: lift cube_a; stack cube_a (the one to move), cube_b; peg the nut (its ring centre).
 */
#ifndef RL_MANIP_H
#define RL_MANIP_H

#define MANIP_STEP 0.02    /* metres of target motion per control step at |action| = 1 */
#define MANIP_LEAD 0.03    /* most the position target leads the gripper, metres */
#define MANIP_FINGER 0.045 /* finger joint range: 0 closed .. MANIP_FINGER open, metres */
#define MANIP_HALF 0.02    /* cube half-size, metres */
#define MANIP_LIFT 0.04    /* lift: success when the cube's bottom is this far above the table */
#define MANIP_PEG_XY 0.02  /* peg: nut centre within this distance of the peg's axis ... */
#define MANIP_PEG_Z 0.03   /* ... and below this height (the peg is 0.08 tall) */
#define MANIP_HANDLE 0.062 /* peg: handle centre along the nut's x axis from the ring centre */

/* Observation layout: offsets of the gripper part and of object k. */
#define MANIP_OBS_GRIP 0                /* gripper position (3) */
#define MANIP_OBS_VEL 3                 /* gripper velocity (3) */
#define MANIP_OBS_OPEN 6                /* finger opening (1) */
#define MANIP_OBS_OBJ(k) (7 + 10 * (k)) /* object k: position (3), quaternion (4), relative (3) */

#endif
