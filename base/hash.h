#ifndef LM_HASH_H
#define LM_HASH_H
/*
 * hash: xxh3-128, the one hash of loramake (node keys, object names).
 * This module is the only includer of xxhash.h. A hash is kept in
 * canonical (big-endian) byte order so that its hex form is the same on
 * every machine.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define HASH_HEX_LEN 32

struct hash {
	uint8_t b[16];
};

/* A streaming hasher: hasher_init, any number of hasher_add, hasher_end. */
struct hasher {
	void *state; /* XXH3_state_t, owned */
};

void hasher_init(struct hasher *h);
void hasher_add(struct hasher *h, const void *data, size_t len);
/* Finish and free the state. */
struct hash hasher_end(struct hasher *h);

struct hash hash_bytes(const void *data, size_t len);
/* Hash a file's bytes; -1 with err on I/O failure. */
int hash_file(const char *path, struct hash *out, struct error *err);
/* 64 bits of h, for seeds and hash tables. */
uint64_t hash_low64(const struct hash *h);
/* 32 lowercase hex digits and a NUL into out[HASH_HEX_LEN + 1]. */
void hash_hex(const struct hash *h, char *out);
/* Parse 32 hex digits; false if s is not exactly that. */
bool hash_parse(const char *s, struct hash *out);
bool hash_eq(const struct hash *a, const struct hash *b);
bool hash_is_zero(const struct hash *h);
/* xxh3-64 of a string, for hash tables. */
uint64_t hash_str64(const char *s, size_t len);

#endif
