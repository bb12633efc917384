#ifndef LM_HTAB_H
#define LM_HTAB_H
/*
 * htab: a string-keyed open-addressing hash table. Keys are borrowed (the
 * caller keeps them alive as long as the table); values are pointers.
 */
#include <stddef.h>
#include <stdint.h>

struct htab_slot {
	const char *key; /* NULL: empty */
	size_t keylen;
	uint64_t hash;
	void *value;
};

struct htab {
	struct htab_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t len;
};

void htab_init(struct htab *t);
void htab_release(struct htab *t);
/* The value stored under key, or NULL. */
void *htab_get(const struct htab *t, const char *key, size_t keylen);
/*
 * Store value under key, replacing any earlier value. Returns the earlier
 * value, or NULL.
 */
void *htab_put(struct htab *t, const char *key, size_t keylen, void *value);
/* The key as stored (the table's copy), or NULL when key is absent. */
const char *htab_key(const struct htab *t, const char *key, size_t keylen);

#endif
