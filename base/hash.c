/*
 * hash: the only includer of xxhash.h.
 */
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "hash.h"
#include "path.h"

static struct hash
from_xxh(XXH128_hash_t v)
{
	XXH128_canonical_t c;
	struct hash h;

	XXH128_canonicalFromHash(&c, v);
	memcpy(h.b, c.digest, sizeof(h.b));
	return h;
}

void
hasher_init(struct hasher *h)
{
	h->state = XXH3_createState();
	if (!h->state)
		BUG("cannot allocate xxh3 state");
	XXH3_128bits_reset(h->state);
}

void
hasher_add(struct hasher *h, const void *data, size_t len)
{
	XXH3_128bits_update(h->state, data, len);
}

struct hash
hasher_end(struct hasher *h)
{
	struct hash out = from_xxh(XXH3_128bits_digest(h->state));

	XXH3_freeState(h->state);
	h->state = NULL;
	return out;
}

struct hash
hash_bytes(const void *data, size_t len)
{
	return from_xxh(XXH3_128bits(data, len));
}

static void
add_to_hasher(void *ctx, const void *data, size_t len)
{
	hasher_add(ctx, data, len);
}

int
hash_file(const char *path, struct hash *out, struct error *err)
{
	struct hasher h;

	hasher_init(&h);
	if (read_chunks(path, add_to_hasher, &h, err) < 0) {
		hasher_end(&h);
		return -1;
	}
	*out = hasher_end(&h);
	return 0;
}

uint64_t
hash_low64(const struct hash *h)
{
	uint64_t v = 0;

	for (int i = 8; i < 16; i++)
		v = v << 8 | h->b[i];
	return v;
}

void
hash_hex(const struct hash *h, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[h->b[i] >> 4];
		out[2 * i + 1] = hex[h->b[i] & 15];
	}
	out[HASH_HEX_LEN] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
hash_parse(const char *s, struct hash *out)
{
	for (int i = 0; i < 16; i++) {
		int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[HASH_HEX_LEN] == '\0';
}

bool
hash_eq(const struct hash *a, const struct hash *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

bool
hash_is_zero(const struct hash *h)
{
	static const struct hash zero;

	return hash_eq(h, &zero);
}

uint64_t
hash_str64(const char *s, size_t len)
{
	return XXH3_64bits(s, len);
}
