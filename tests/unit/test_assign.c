/*
 * Unit tests of compiler/assign.c: pool assignments are balanced on a
 * fresh recipe and never depend on the positions of ids or entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/assign.h"

#define NPLACES 9
static const struct env_entry places[NPLACES] = {
	{ "corridor", "cool", { 0 } }, { "street", "neon", { 0 } },
	{ "forest", "dawn", { 0 } },   { "lab", "fluorescent", { 0 } },
	{ "kitchen", "warm", { 0 } },  { "roof", "golden", { 0 } },
	{ "pier", "grey", { 0 } },     { "engine room", "red", { 0 } },
	{ "desert", "noon", { 0 } },
};

static char names[64][32];
static const char *ids[64];

static void
make_ids(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "img/%zu", i);
		ids[i] = names[i];
	}
}

/* The lock of a test: tags by id, from an earlier assignment. */
struct fake_lock {
	const char *const *ids;
	size_t n;
	char tags[64][ASSIGN_TAG_LEN + 1];
};

static const char *
from_lock(const char *id, void *ctx)
{
	struct fake_lock *l = ctx;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->ids[i], id) == 0)
			return l->tags[i];
	return NULL;
}

static void
remember(struct fake_lock *l, const struct env_entry *pool,
	 const struct assignment *a, size_t n)
{
	l->ids = ids;
	l->n = n;
	for (size_t i = 0; i < n; i++)
		assign_tag(&pool[a[i].entry], l->tags[i]);
}

static void
test_fresh_counts_differ_by_at_most_one(void **state)
{
	struct assignment a[64];

	(void)state;
	for (size_t n = 1; n <= 60; n += 7)
		for (size_t m = 1; m <= NPLACES; m++) {
			size_t count[NPLACES] = { 0 }, lo = 99, hi = 0;

			make_ids(n);
			assign_pool(ids, n, places, m, NULL, NULL, a);
			for (size_t i = 0; i < n; i++)
				count[a[i].entry]++;
			for (size_t j = 0; j < m; j++) {
				lo = count[j] < lo ? count[j] : lo;
				hi = count[j] > hi ? count[j] : hi;
			}
			if (hi - lo > 1)
				fail_msg("%zu ids over %zu entries: %zu..%zu", n, m, lo, hi);
		}
}

static void
test_reversed_pool_gives_the_same_places(void **state)
{
	struct env_entry rev[NPLACES];
	struct assignment a[21], b[21];

	(void)state;
	make_ids(21);
	for (size_t j = 0; j < 8; j++)
		rev[j] = places[7 - j];
	assign_pool(ids, 21, places, 8, NULL, NULL, a);
	assign_pool(ids, 21, rev, 8, NULL, NULL, b);
	for (size_t i = 0; i < 21; i++)
		assert_string_equal(places[a[i].entry].place, rev[b[i].entry].place);
}

static void
test_a_new_entry_moves_only_what_balances_it(void **state)
{
	static struct fake_lock lock;
	struct assignment a[21], b[21];
	size_t moved = 0, count[NPLACES] = { 0 };

	(void)state;
	make_ids(21);
	assign_pool(ids, 21, places, 8, NULL, NULL, a);
	remember(&lock, places, a, 21);
	assign_pool(ids, 21, places, 9, from_lock, &lock, b);
	for (size_t i = 0; i < 21; i++) {
		count[b[i].entry]++;
		if (b[i].entry != a[i].entry) {
			moved++;
			assert_true(b[i].moved);
			assert_int_equal(b[i].entry, 8);
		}
	}
	assert_int_equal(moved, 2);
	assert_int_equal(count[8], 2);
}

static void
test_a_new_image_moves_no_other(void **state)
{
	static struct fake_lock lock;
	struct assignment a[21], b[22];

	(void)state;
	make_ids(22);
	assign_pool(ids, 21, places, 8, NULL, NULL, a);
	remember(&lock, places, a, 21);
	assign_pool(ids, 22, places, 8, from_lock, &lock, b);
	for (size_t i = 0; i < 21; i++) {
		assert_int_equal(b[i].entry, a[i].entry);
		assert_false(b[i].moved);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_counts_differ_by_at_most_one),
		cmocka_unit_test(test_reversed_pool_gives_the_same_places),
		cmocka_unit_test(test_a_new_entry_moves_only_what_balances_it),
		cmocka_unit_test(test_a_new_image_moves_no_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
