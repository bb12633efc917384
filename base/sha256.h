#ifndef LM_SHA256_H
#define LM_SHA256_H
/*
 * sha256: SHA-256 (FIPS 180-4), for the names the team cache's servers
 * ask for (docs/remote-cache.md: bazel-remote routes only 64-hex SHA-256
 * names and checks each upload against its name). loramake's own names
 * stay xxh3-128 (hash.h); this is the wire's name, not the store's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256 {
	uint8_t b[SHA256_LEN];
};

/* A streaming hasher: sha256_init, any number of sha256_add, sha256_end. */
struct sha256_ctx {
	uint32_t state[8];
	uint64_t bytes;              /* message length so far */
	uint8_t block[64];           /* the partial block */
	size_t fill;                 /* bytes in block */
};

void sha256_init(struct sha256_ctx *c);
void sha256_add(struct sha256_ctx *c, const void *data, size_t len);
struct sha256 sha256_end(struct sha256_ctx *c);

struct sha256 sha256_bytes(const void *data, size_t len);
/* The SHA-256 of a file's bytes and their count; -1 with err on I/O
 * failure. */
int sha256_file(const char *path, struct sha256 *out, uint64_t *size,
		struct error *err);
/* 64 lowercase hex digits and a NUL into out[SHA256_HEX_LEN + 1]. */
void sha256_hex(const struct sha256 *h, char *out);
/* Parse s[0..len): exactly 64 lowercase hex digits, as the servers name
 * objects; false otherwise. */
bool sha256_parse(const char *s, size_t len, struct sha256 *out);

#endif
