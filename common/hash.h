/*
 * hash.h — checksums and hashes: CRC-32C (Castagnoli; checkpoints, datasets, TFRecord framing)
 * and 64-bit FNV-1a (layout hashes). Pure functions, thread-safe.
 */
#ifndef RL_HASH_H
#define RL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0..n), continuing from crc (start with 0). */
uint32_t hash_crc32c(uint32_t crc, const void *buf, size_t n);

/* 64-bit FNV-1a of buf[0..n), continuing from h (start with HASH_FNV_INIT). */
#define HASH_FNV_INIT 0xcbf29ce484222325ULL
uint64_t hash_fnv1a(uint64_t h, const void *buf, size_t n);

/* Fold one 64-bit integer into an FNV-1a hash (little-endian byte order). */
uint64_t hash_fnv1a_u64(uint64_t h, uint64_t x);

#endif
