/*
 * version.h — the rldt release version: `rldt --version`, the producer of exported files.
 */
#ifndef RL_VERSION_H
#define RL_VERSION_H

#define RLDT_VERSION "0.1.0"

#endif
