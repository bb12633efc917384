/*
 * htab: linear probing, load factor at most 1/2.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htab.h"
#include "util.h"

void
htab_init(struct htab *t)
{
	memset(t, 0, sizeof(*t));
}

void
htab_release(struct htab *t)
{
	free(t->slots);
	htab_init(t);
}

static struct htab_slot *
find(const struct htab *t, const char *key, size_t keylen, uint64_t h)
{
	size_t mask = t->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct htab_slot *s = &t->slots[i];

		if (!s->key || (s->hash == h && s->keylen == keylen &&
				memcmp(s->key, key, keylen) == 0))
			return s;
	}
}

void *
htab_get(const struct htab *t, const char *key, size_t keylen)
{
	struct htab_slot *s;

	if (!t->cap)
		return NULL;
	s = find(t, key, keylen, hash_str64(key, keylen));
	return s->key ? s->value : NULL;
}

static void
rehash(struct htab *t)
{
	struct htab old = *t;

	t->cap = old.cap ? old.cap * 2 : 64;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
	for (size_t i = 0; i < old.cap; i++) {
		struct htab_slot *s = &old.slots[i];

		if (s->key)
			*find(t, s->key, s->keylen, s->hash) = *s;
	}
	free(old.slots);
}

void *
htab_put(struct htab *t, const char *key, size_t keylen, void *value)
{
	uint64_t h = hash_str64(key, keylen);
	struct htab_slot *s;
	void *old;

	if ((t->len + 1) * 2 > t->cap)
		rehash(t);
	s = find(t, key, keylen, h);
	if (s->key) {
		old = s->value;
		s->value = value;
		return old;
	}
	s->key = key;
	s->keylen = keylen;
	s->hash = h;
	s->value = value;
	t->len++;
	return NULL;
}

const char *
htab_key(const struct htab *t, const char *key, size_t keylen)
{
	if (!t->cap)
		return NULL;
	return find(t, key, keylen, hash_str64(key, keylen))->key;
}
