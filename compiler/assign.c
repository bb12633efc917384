/*
 * assign: sticky, balanced pool assignment (see assign.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/util.h"
#include "assign.h"

void
assign_tag(const struct env_entry *e, char out[ASSIGN_TAG_LEN + 1])
{
	struct buf b;
	struct hash h;

	buf_init(&b);
	buf_addf(&b, "place=%s", e->place ? e->place : "");
	buf_addc(&b, '\0');
	buf_addf(&b, "light=%s", e->light ? e->light : "");
	h = hash_bytes(b.data, b.len);
	buf_release(&b);
	snprintf(out, ASSIGN_TAG_LEN + 1, "%016llx",
		 (unsigned long long)hash_low64(&h));
}

/* The rendezvous score of image id for the entry tagged tag. */
static uint64_t
score(const char *id, const char *tag)
{
	struct buf b;
	struct hash h;

	buf_init(&b);
	buf_adds(&b, id);
	buf_addc(&b, '\0');
	buf_adds(&b, tag);
	h = hash_bytes(b.data, b.len);
	buf_release(&b);
	return hash_low64(&h);
}

struct state {
	const char *const *ids;
	char (*tags)[ASSIGN_TAG_LEN + 1];
	size_t npool;
	size_t *count;       /* images per entry */
	bool *set;           /* per image: has an entry */
	struct assignment *out;
};

/* The least-used entry for image i; ties by score, then by tag, so the
 * answer never depends on the entries' order. */
static size_t
least_used(const struct state *s, size_t i)
{
	size_t best = 0;
	uint64_t best_score = score(s->ids[i], s->tags[0]);

	for (size_t j = 1; j < s->npool; j++) {
		uint64_t sc = score(s->ids[i], s->tags[j]);

		if (s->count[j] < s->count[best] ||
		    (s->count[j] == s->count[best] &&
		     (sc > best_score ||
		      (sc == best_score && strcmp(s->tags[j], s->tags[best]) < 0)))) {
			best = j;
			best_score = sc;
		}
	}
	return best;
}

struct order {
	uint64_t h;
	const char *id;
	size_t i;
};

static int
by_hash(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Step 2: the images without an entry, in hash order, least-used. */
static void
place_new(struct state *s, size_t nids)
{
	struct order *o = xcalloc(nids + 1, sizeof(*o));
	size_t k = 0;

	for (size_t i = 0; i < nids; i++)
		if (!s->set[i])
			o[k++] = (struct order){ score(s->ids[i], ""), s->ids[i], i };
	if (k)
		qsort(o, k, sizeof(*o), by_hash);
	for (size_t m = 0; m < k; m++) {
		size_t i = o[m].i, j = least_used(s, i);

		s->out[i] = (struct assignment){ j, false };
		s->set[i] = true;
		s->count[j]++;
	}
	free(o);
}

/* The image on one of the fullest entries that scores highest for entry
 * j, or nids when none is fuller than j by more than one. */
static size_t
best_donor(const struct state *s, size_t nids, size_t j)
{
	size_t most = 0, pick = nids;
	uint64_t best = 0;

	for (size_t e = 0; e < s->npool; e++)
		if (s->count[e] > most)
			most = s->count[e];
	if (most <= s->count[j] + 1)
		return nids;
	for (size_t i = 0; i < nids; i++) {
		uint64_t sc;

		if (s->count[s->out[i].entry] != most)
			continue;
		sc = score(s->ids[i], s->tags[j]);
		if (pick == nids || sc > best ||
		    (sc == best && strcmp(s->ids[i], s->ids[pick]) < 0)) {
			pick = i;
			best = sc;
		}
	}
	return pick;
}

/* Step 3: fill each entry that no image has, in tag order. */
static void
fill_empty(struct state *s, size_t nids)
{
	size_t target = nids / s->npool;

	for (;;) {
		size_t j = s->npool;

		for (size_t e = 0; e < s->npool; e++)
			if (s->count[e] == 0 &&
			    (j == s->npool || strcmp(s->tags[e], s->tags[j]) < 0))
				j = e;
		if (j == s->npool || target == 0)
			return;
		while (s->count[j] < target) {
			size_t i = best_donor(s, nids, j);

			if (i == nids)
				break;
			s->count[s->out[i].entry]--;
			s->out[i] = (struct assignment){ j, true };
			s->count[j]++;
		}
		if (s->count[j] == 0)
			return; /* nothing could move: stop, not loop */
	}
}

void
assign_pool(const char *const *ids, size_t nids,
	    const struct env_entry *pool, size_t npool,
	    const char *(*locked)(const char *id, void *ctx), void *ctx,
	    struct assignment *out)
{
	struct state s = { ids, xcalloc(npool, sizeof(*s.tags)), npool,
			   xcalloc(npool, sizeof(size_t)),
			   xcalloc(nids + 1, sizeof(bool)), out };
	bool any_locked = false;

	if (!npool)
		BUG("assign_pool with an empty pool");
	for (size_t j = 0; j < npool; j++)
		assign_tag(&pool[j], s.tags[j]);
	for (size_t i = 0; i < nids; i++) {
		const char *t = locked ? locked(ids[i], ctx) : NULL;

		for (size_t j = 0; t && j < npool && !s.set[i]; j++)
			if (strcmp(t, s.tags[j]) == 0) {
				out[i] = (struct assignment){ j, false };
				s.set[i] = true;
				s.count[j]++;
				any_locked = true;
			}
	}
	place_new(&s, nids);
	if (any_locked)
		fill_empty(&s, nids);
	free(s.tags);
	free(s.count);
	free(s.set);
}
