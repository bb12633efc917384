/*
 * Unit tests of the cache: the object store, the action log (torn
 * appends), the pending log, and the lock file round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/path.h"
#include "cache/actions.h"
#include "cache/lock.h"
#include "cache/pending.h"
#include "cache/store.h"
#include "cache/tree.h"

#define FACETS " facets=engine:00000001,model:00000002,prompt:00000003," \
	       "parameters:00000004,seed:00000005,input:00000006"
#define H1 "11111111111111111111111111111111"
#define H2 "22222222222222222222222222222222"
#define H3 "33333333333333333333333333333333"

static char dir[] = "/tmp/lm-cache-XXXXXX";

static char *
in_dir(const char *name)
{
	return path_join(dir, name);
}

static void
test_store_put_is_content_addressed(void **state)
{
	struct store s;
	struct hash h1, h2;
	struct stat st;
	char *p;

	(void)state;
	assert_int_equal(store_open(&s, dir, true, NULL), 0);
	assert_int_equal(store_put_bytes(&s, "hello", 5, &h1, NULL), 0);
	assert_int_equal(store_put_bytes(&s, "hello", 5, &h2, NULL), 0);
	assert_true(hash_eq(&h1, &h2));
	struct hash want = hash_bytes("hello", 5);
	assert_true(hash_eq(&h1, &want));
	p = store_object_path(&s, &h1);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0222, 0); /* read-only */
	free(p);
	/* nothing is left in tmp/ */
	assert_int_equal(rmdir(s.tmp), 0);
	assert_int_equal(mkdir(s.tmp, 0777), 0);
	/* what a killed build leaves there, files and workdirs, is cleaned */
	p = path_join(s.tmp, "9-1.d/10_X");
	assert_int_equal(mkdirs(p, NULL), 0);
	free(p);
	p = path_join(s.tmp, "9-2.png");
	assert_int_equal(write_file_atomic(p, "x", 1, NULL), 0);
	free(p);
	store_clean_tmp(&s);
	assert_int_equal(rmdir(s.tmp), 0);
	assert_int_equal(mkdir(s.tmp, 0777), 0);
	store_close(&s);
}

static void
test_actions_load_keeps_what_precedes_a_torn_line(void **state)
{
	char *path = in_dir("actions");
	struct actions a;
	struct hash outs[2] = { hash_bytes("x", 1), hash_bytes("y", 1) };
	struct action rec = { .key = hash_bytes("k1", 2), .outs = outs, .nouts = 2,
			      .usd = 0.035, .seed = 42, .request = (char *)"req-1" };
	FILE *f;

	(void)state;
	unlink(path);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	assert_int_equal(actions_append(&a, &rec, NULL), 0);
	actions_release(&a);
	/* a crash mid-append leaves half a line */
	f = fopen(path, "a");
	fputs("0123456789abcdef0123456789abcdef\tdeadbe", f);
	fclose(f);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	const struct action *got = actions_get(&a, &rec.key);
	assert_non_null(got);
	assert_int_equal(got->nouts, 2);
	assert_true(hash_eq(&got->outs[1], &outs[1]));
	assert_int_equal(got->seed, 42);
	assert_string_equal(got->request, "req-1");
	assert_int_equal(a.n, 1);
	actions_release(&a);
	free(path);
}

/* A record line as the log holds it: KEY OUT USD SEED REQUEST. */
#define REC(k) k "\t" H2 "\t0.035\t7\treq-1\n"
#define ACT_HEAD "# loramake actions v1\n"

static void
write_text(const char *path, const char *text, size_t len)
{
	assert_int_equal(write_file_atomic(path, text, len, NULL), 0);
}

static bool
has_key(const struct actions *a, const char *hex)
{
	struct hash k;

	assert_true(hash_parse(hex, &k));
	return actions_get(a, &k) != NULL;
}

static void
test_actions_header_of_another_version_is_rewritten(void **state)
{
	static const char text[] = "# loramake actions v7\n" REC(H1);
	char *path = in_dir("actions-v7"), *now;
	struct actions a;
	struct action rec = { .key = hash_bytes("k", 1), .outs = &rec.key, .nouts = 1 };

	(void)state;
	write_text(path, text, sizeof(text) - 1);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	assert_false(has_key(&a, H1)); /* another format: not misread */
	assert_int_equal(actions_append(&a, &rec, NULL), 0);
	actions_release(&a);
	assert_int_equal(read_file(path, &now, NULL, NULL), 0);
	assert_true(!strncmp(now, ACT_HEAD, strlen(ACT_HEAD)));
	free(now);
	/* and the log is read again, not ignored on every later build */
	assert_int_equal(actions_load(&a, path, NULL), 0);
	assert_non_null(actions_get(&a, &rec.key));
	assert_false(a.rewrite);
	actions_release(&a);
	free(path);
}

static void
test_actions_damaged_header_keeps_its_records(void **state)
{
	static const char text[] = "# loramake actionz v1\n" REC(H1);
	char *path = in_dir("actions-damaged"), *now;
	struct actions a;

	(void)state;
	write_text(path, text, sizeof(text) - 1);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	assert_true(has_key(&a, H1));
	assert_int_equal(actions_start(&a, NULL), 0);
	actions_release(&a);
	assert_int_equal(read_file(path, &now, NULL, NULL), 0);
	assert_string_equal(now, ACT_HEAD REC(H1));
	free(now);
	free(path);
}

static void
test_actions_append_after_a_torn_line_starts_a_fresh_line(void **state)
{
	static const char text[] = ACT_HEAD REC(H1) H3 "\tdeadbe";
	char *path = in_dir("actions-torn");
	struct actions a;
	struct action rec = { .key = hash_bytes("k", 1), .outs = &rec.key, .nouts = 1 };

	(void)state;
	write_text(path, text, sizeof(text) - 1);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	assert_true(a.torn);
	assert_int_equal(actions_append(&a, &rec, NULL), 0);
	actions_release(&a);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	assert_true(has_key(&a, H1));
	assert_non_null(actions_get(&a, &rec.key)); /* not glued to the torn line */
	actions_release(&a);
	free(path);
}

static void
test_actions_nul_byte_spoils_its_line_only(void **state)
{
	/* a record complete up to a NUL was taken whole */
	static const char text[] = ACT_HEAD H1 "\t" H2 "\t0\t1\t-\0junk\n" REC(H3);
	char copy[sizeof(text)];
	struct actions a;

	(void)state;
	memcpy(copy, text, sizeof(text));
	assert_int_equal(actions_parse(&a, "actions", copy, sizeof(text) - 1), 0);
	assert_false(has_key(&a, H1));
	assert_true(has_key(&a, H3));
	actions_release(&a);
}

static void
test_actions_fields_are_validated(void **state)
{
	static const char *const bad[] = {
		H1 "\t" H2 "\t-1\t1\t-\n",          /* negative cost */
		H1 "\t" H2 "\t0\t-1\t-\n",          /* negative seed */
		H1 "\t" H2 ",\t0\t1\t-\n",          /* an empty out */
		H1 "\t" H2 "\t0\t1\t$(touch x)\n",  /* not a request id */
		H1 "\t" H2 "\t0\t1\t-\textra\n",    /* a sixth field */
		H1 "\t" H2 "\t0\t1\n",              /* a field missing */
	};

	(void)state;
	for (size_t i = 0; i < LM_ARRAY_LEN(bad); i++) {
		char *text = xasprintf(ACT_HEAD "%s", bad[i]);
		struct actions a;

		assert_int_equal(actions_parse(&a, "actions", text, strlen(text)), 0);
		assert_int_equal(a.n, 0);
		actions_release(&a);
		free(text);
	}
}

static void
test_pending_skips_torn_and_damaged_lines(void **state)
{
	static const char text[] = "# loramake pending v1\n"
		H1 "\t1\tr-1\0junk\n"     /* a NUL */
		H2 "\t0\tr-2\n"            /* candidate 0 */
		H2 "\t2\t\n"               /* no info */
		H2 "\t2\tr-3\n"
		H3 "\t1\tr-4";              /* torn */
	char copy[sizeof(text)];
	struct pending p;
	struct hash k;
	const struct pending_entry *v[4];

	(void)state;
	memcpy(copy, text, sizeof(text));
	assert_int_equal(pending_parse(&p, "pending", copy, sizeof(text) - 1), 0);
	assert_int_equal(p.n, 1);
	assert_true(hash_parse(H2, &k));
	assert_int_equal(pending_for(&p, &k, v, 4), 1);
	assert_string_equal(v[0]->info, "r-3");
	pending_release(&p);
}

static void
test_pending_compacts_finished(void **state)
{
	char *ppath = in_dir("pending"), *apath = in_dir("actions2");
	struct pending p;
	struct actions a;
	struct hash k1 = hash_bytes("a", 1), k2 = hash_bytes("b", 1), o = k1;
	struct action rec = { .key = k1, .outs = &o, .nouts = 1 };
	const struct pending_entry *v[4];

	(void)state;
	unlink(ppath);
	unlink(apath);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(pending_add(&p, &k1, 1, "r1 http://x/1", NULL), 0);
	assert_int_equal(pending_add(&p, &k2, 2, "r2 http://x/2", NULL), 0);
	pending_release(&p);
	assert_int_equal(actions_load(&a, apath, NULL), 0);
	assert_int_equal(actions_append(&a, &rec, NULL), 0);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(pending_compact(&p, &a, NULL), 0);
	assert_int_equal(pending_for(&p, &k1, v, 4), 0);
	assert_int_equal(pending_for(&p, &k2, v, 4), 1);
	assert_int_equal(v[0]->candidate, 2);
	assert_string_equal(v[0]->info, "r2 http://x/2");
	pending_release(&p);
	actions_release(&a);
	free(ppath);
	free(apath);
}

/* A forgotten request (a failed model run) is gone in memory, after a
 * reload, and after compaction; a later line for it replaces it again. */
static void
test_pending_forgets(void **state)
{
	char *ppath = in_dir("pending3"), *apath = in_dir("actions3");
	struct pending p;
	struct actions a;
	struct hash k1 = hash_bytes("a", 1), k2 = hash_bytes("b", 1);
	const struct pending_entry *v[4];

	(void)state;
	unlink(ppath);
	unlink(apath);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(pending_add(&p, &k1, 1, "r1 http://x/1", NULL), 0);
	assert_int_equal(pending_add(&p, &k1, 2, "r2 http://x/2", NULL), 0);
	assert_int_equal(pending_add(&p, &k2, 1, "r3 http://x/3", NULL), 0);
	assert_int_equal(pending_forget(&p, &k1, 1, NULL), 0);
	assert_int_equal(pending_for(&p, &k1, v, 4), 1);
	assert_int_equal(v[0]->candidate, 2);
	pending_release(&p);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(pending_for(&p, &k1, v, 4), 1);
	assert_string_equal(v[0]->info, "r2 http://x/2");
	assert_int_equal(pending_add(&p, &k1, 1, "r4 http://x/4", NULL), 0);
	pending_release(&p);
	assert_int_equal(actions_load(&a, apath, NULL), 0);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(pending_compact(&p, &a, NULL), 0);
	pending_release(&p);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(pending_for(&p, &k1, v, 4), 2);
	assert_string_equal(v[0]->info, "r2 http://x/2");
	assert_string_equal(v[1]->info, "r4 http://x/4");
	pending_release(&p);
	actions_release(&a);
	free(ppath);
	free(apath);
}

static void
test_lock_round_trip_sorted(void **state)
{
	char *path = in_dir("r.lock");
	struct lock l;
	struct node a = { .id = "b/node", .key = hash_bytes("1", 1), .seed = 5 };
	struct node b = { .id = "a/node", .key = hash_bytes("2", 1), .seed = 6 };
	struct hash out = hash_bytes("o", 1);
	char *text;

	(void)state;
	unlink(path);
	assert_int_equal(lock_load(&l, path, NULL), 0);
	lock_set(&l, &a, &out, 1, 0.065, "req");
	lock_set(&l, &b, &out, 1, 0, NULL);
	lock_set(&l, &a, &out, 1, 0.07, "req2"); /* replaces in place */
	picks_set(&l.picks, "anchor/front", 3);
	assert_int_equal(lock_write(&l, NULL), 0);
	lock_release(&l);
	assert_int_equal(read_file(path, &text, NULL, NULL), 0);
	char *pa = strstr(text, "node a/node"), *pb = strstr(text, "node b/node");
	assert_non_null(pa);
	assert_non_null(pb);
	assert_true(pa < pb);
	assert_non_null(strstr(text, "pick anchor/front 3\n"));
	assert_non_null(strstr(pb, "request=req2"));
	free(text);
	assert_int_equal(lock_load(&l, path, NULL), 0);
	const struct lock_node *e = lock_get(&l, "b/node");
	assert_non_null(e);
	assert_true(hash_eq(&e->key, &a.key));
	assert_int_equal(e->seed, 5);
	assert_int_equal((int)(uintptr_t)htab_get(&l.picks.byid, "anchor/front", 12), 3);
	lock_release(&l);
	free(path);
}

/* ---- the lock reader: nothing in a lock is trusted ---- */

#define LOCK_HEAD "# loramake lock v2: machine-written; commit it with the recipe\n"

/* lock_parse of text (len bytes, may hold NULs), on a copy. */
static void
parse_lock(struct lock *l, const char *text, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, text, len);
	copy[len] = '\0';
	assert_int_equal(lock_parse(l, "recipe.lock", copy, len), 0);
	free(copy);
}

static void
parse_lock_str(struct lock *l, const char *text)
{
	parse_lock(l, text, strlen(text));
}

static char *
format_lock(const struct lock *l)
{
	struct buf b;

	buf_init(&b);
	lock_format(l, &b);
	return buf_detach(&b);
}

static void
test_lock_line_with_two_outs_is_refused_not_overflowed(void **state)
{
	struct lock l;
	struct buf b;

	(void)state;
	/* parse_outs sized its array for the first out= only */
	buf_init(&b);
	buf_adds(&b, LOCK_HEAD "node a key=" H1 " out=" H2 " seed=1 usd=0 out=");
	for (int i = 0; i < 50; i++)
		buf_addf(&b, "%s" H3, i ? "," : "");
	buf_adds(&b, FACETS "\nnode b key=" H1 " out=" H2 " seed=1 usd=0" FACETS "\n");
	parse_lock(&l, b.data, b.len);
	assert_null(lock_get(&l, "a"));
	assert_non_null(lock_get(&l, "b"));
	lock_release(&l);
	buf_release(&b);
}

static void
test_lock_line_with_two_requests_is_refused_without_a_leak(void **state)
{
	struct lock l;

	(void)state;
	parse_lock_str(&l, LOCK_HEAD "node a key=" H1 " out=" H2
		       " seed=1 usd=0 request=r1 request=r2" FACETS "\n");
	assert_null(lock_get(&l, "a"));
	lock_release(&l); /* LSan: nothing of r1 is left */
}

static void
test_lock_nul_byte_skips_its_line_not_the_rest(void **state)
{
	static const char text[] = LOCK_HEAD "pick x 2\nnode a key=" H1 " out=" H2
		" seed=1 usd=0\0" FACETS "\nnode b key=" H1 " out=" H2 " seed=1 usd=0"
		FACETS "\npick y 3\n";
	struct lock l;

	(void)state;
	parse_lock(&l, text, sizeof(text) - 1);
	assert_null(lock_get(&l, "a"));
	assert_non_null(lock_get(&l, "b"));
	assert_int_equal((int)(uintptr_t)htab_get(&l.picks.byid, "y", 1), 3);
	lock_release(&l);
}

static void
test_lock_line_cut_at_a_field_boundary_is_refused(void **state)
{
	struct lock l;

	(void)state;
	/* cut before facets= (newline intact), and a last line cut short */
	parse_lock_str(&l, LOCK_HEAD "node a key=" H1 " out=" H2 " seed=1 usd=0\n"
		       "node b key=" H1 " out=" H2 " seed=1 usd=0" FACETS "\n"
		       "node c key=" H1 " out=" H2 " seed=1 usd=0" FACETS);
	assert_null(lock_get(&l, "a"));
	assert_non_null(lock_get(&l, "b"));
	assert_null(lock_get(&l, "c"));
	lock_release(&l);
}

static void
test_lock_fields_are_validated(void **state)
{
	static const char *const bad[] = {
		"node a key=" H1 " out=" H2 " seed=-1 usd=0" FACETS "\n",
		"node a key=" H1 " out=" H2 " seed=1 usd=-3" FACETS "\n",
		"node a key=" H1 " out=" H2 " seed=1 usd=nan" FACETS "\n",
		"node a key=" H1 " out=" H2 ",, seed=1 usd=0" FACETS "\n",
		"node a key=" H1 " out=" H2 " seed=1 usd=0 request=$(touch) " FACETS "\n",
		"node a key=" H1 " out=" H2 " seed=1 usd=0 color=red" FACETS "\n",
		"node a key=" H1 " out=" H2 " seed=1 usd=0" FACETS ",extra:00000000\n",
		"node \x1b[31m key=" H1 " out=" H2 " seed=1 usd=0" FACETS "\n",
		"pick a 0\n", "pick a 101\n", "pick a 1 2\n",
	};

	(void)state;
	for (size_t i = 0; i < LM_ARRAY_LEN(bad); i++) {
		struct lock l;
		char *text = xasprintf(LOCK_HEAD "%s", bad[i]);

		parse_lock_str(&l, text);
		assert_int_equal(l.byid.len + l.picks.byid.len, 0);
		lock_release(&l);
		free(text);
	}
}

static void
test_lock_repeated_line_replaces_without_a_leak(void **state)
{
	struct lock l;

	(void)state;
	/* found by fuzz_lock: the second line's id leaked */
	parse_lock_str(&l, LOCK_HEAD "node a key=" H1 " out=" H2 " seed=1 usd=0" FACETS
		       "\nnode a key=" H1 " out=" H3 " seed=2 usd=0" FACETS "\n");
	assert_non_null(lock_get(&l, "a"));
	assert_int_equal(lock_get(&l, "a")->seed, 2); /* the later line wins */
	assert_null(lock_get(&l, "a")->alt);
	lock_release(&l);
}

static void
test_lock_round_trips_big_amounts(void **state)
{
	struct lock l;
	char *text;

	(void)state;
	/* format_double cast 1e308 to long long: undefined behaviour */
	parse_lock_str(&l, LOCK_HEAD "node a key=" H1 " out=" H2 " seed=1 usd=1e308"
		       FACETS "\n");
	text = format_lock(&l);
	assert_non_null(strstr(text, " usd=1e+308 "));
	lock_release(&l);
	free(text);
}

static void
test_lock_trained_round_trips_and_a_v1_lock_reads(void **state)
{
	struct lock l;
	char *text;

	(void)state;
	parse_lock_str(&l, LOCK_HEAD "node t key=" H1 " out=" H2 " seed=1 usd=4.2 "
		       "trained=" H3 "," H1 FACETS "\n"
		       "node u key=" H1 " out=" H2 " seed=1 usd=0 trained=" H3 FACETS "\n");
	assert_true(lock_get(&l, "t")->trained);
	assert_null(lock_get(&l, "u")); /* one hash: not whole */
	text = format_lock(&l);
	assert_non_null(strstr(text, " usd=4.2 trained=" H3 "," H1 " facets="));
	lock_release(&l);
	free(text);
	parse_lock_str(&l, "# loramake lock v1: machine-written; commit it with the recipe\n"
		       "node a key=" H1 " out=" H2 " seed=1 usd=0" FACETS "\n");
	assert_int_equal(l.version, 1);
	assert_false(lock_get(&l, "a")->trained);
	lock_release(&l);
}

static void
test_lock_of_a_newer_version_is_read_not_rewritten(void **state)
{
	char *path = in_dir("newer.lock");
	static const char v4[] = "# loramake lock v4: machine-written\n"
		"node a key=" H1 " out=" H2 " seed=1 usd=0 tier=gold" FACETS "\n"
		"gate a 1111111111111111 fail 0.35 jaw wider\n"
		"badge a gold\n";
	struct lock l;
	struct error err;
	char *text;

	(void)state;
	assert_int_equal(write_file_atomic(path, v4, strlen(v4), NULL), 0);
	assert_int_equal(lock_load(&l, path, NULL), 0);
	assert_int_equal(l.version, 4);
	assert_non_null(lock_get(&l, "a")); /* its unknown field let be */
	assert_non_null(picks_verdict_text(&l.picks, "a")); /* a v3 line: read */
	l.dirty = true;
	assert_int_equal(lock_write(&l, &err), -1);
	assert_non_null(strstr(err.msg, "newer loramake (lock v4; this one writes v3)"));
	lock_release(&l);
	assert_int_equal(read_file(path, &text, NULL, NULL), 0);
	assert_string_equal(text, v4);
	free(text);
	free(path);
}

/* The header says what an older reader would lose: v3 once a gate line is
 * in (a v2 loramake reads it but never rewrites it, so the verdicts stay),
 * v2 without (every v2 loramake still writes it); v2 locks that hold gate
 * lines (written before v3 was) read them. */
static void
test_lock_with_gate_lines_is_written_v3_else_v2(void **state)
{
	static const char gate[] = "gate angle/back 0123456789abcdef fail 0.35 jaw wider\n";
	static const char v3[] = "# loramake lock v3: machine-written; commit it "
				 "with the recipe\npick a 2\n";
	struct lock l;
	char *text;

	(void)state;
	parse_lock_str(&l, LOCK_HEAD "pick a 2\n");
	assert_int_equal(lock_format_version(&l), 2);
	text = format_lock(&l);
	assert_true(!strncmp(text, LOCK_HEAD, strlen(LOCK_HEAD)));
	free(text);
	picks_put_verdict(&l.picks, "angle/back", "0123456789abcdef fail 0.35 jaw wider");
	assert_int_equal(lock_format_version(&l), 3);
	text = format_lock(&l);
	assert_true(!strncmp(text, v3, strlen(v3)));
	assert_non_null(strstr(text, gate));
	lock_release(&l);
	/* what this writes, this reads back the same */
	parse_lock_str(&l, text);
	free(text);
	assert_int_equal(l.version, 3);
	assert_string_equal(picks_verdict_text(&l.picks, "angle/back"),
			    "0123456789abcdef fail 0.35 jaw wider");
	assert_int_equal(lock_writable(&l, NULL), 0);
	lock_release(&l);
	/* a v2 lock with a gate line, as written before v3: read, and
	 * rewritten v3 */
	parse_lock_str(&l, LOCK_HEAD "gate angle/back 0123456789abcdef fail 0.35 jaw wider\n");
	assert_int_equal(l.version, 2);
	assert_non_null(picks_verdict_text(&l.picks, "angle/back"));
	assert_int_equal(lock_writable(&l, NULL), 0);
	text = format_lock(&l);
	assert_true(!strncmp(text, "# loramake lock v3:", 19));
	lock_release(&l);
	free(text);
}

static void
test_lock_conflict_unions_node_lines(void **state)
{
	struct lock l;
	char *text;

	(void)state;
	/* both branches built nodes; b differently on each */
	parse_lock_str(&l, LOCK_HEAD "pick p 1\n"
		       "<<<<<<< HEAD\n"
		       "node a key=" H1 " out=" H2 " seed=1 usd=0" FACETS "\n"
		       "node b key=" H1 " out=" H2 " seed=1 usd=0" FACETS "\n"
		       "=======\n"
		       "node b key=" H2 " out=" H3 " seed=1 usd=0" FACETS "\n"
		       "node c key=" H3 " out=" H3 " seed=1 usd=0" FACETS "\n"
		       ">>>>>>> other\n");
	assert_int_equal(l.nconflicts, 0);
	assert_true(l.dirty);
	assert_non_null(lock_get(&l, "a"));
	assert_non_null(lock_get(&l, "c"));
	struct hash k1, k2;
	assert_true(hash_parse(H1, &k1) && hash_parse(H2, &k2));
	assert_true(hash_eq(&lock_find(&l, "b", &k1)->key, &k1));
	assert_true(hash_eq(&lock_find(&l, "b", &k2)->key, &k2));
	assert_int_equal((int)(uintptr_t)htab_get(&l.picks.byid, "p", 1), 1);
	text = format_lock(&l);
	lock_release(&l);
	/* the merged text reads back as itself, with no markers */
	assert_null(strstr(text, "<<<<"));
	parse_lock_str(&l, text);
	char *again = format_lock(&l);
	assert_string_equal(again, text);
	assert_non_null(lock_find(&l, "b", &k2));
	lock_release(&l);
	free(again);
	free(text);
}

static void
test_lock_conflicting_picks_name_both_lines(void **state)
{
	struct lock l;

	(void)state;
	parse_lock_str(&l, LOCK_HEAD
		       "<<<<<<< HEAD\n"
		       "pick anchor/front 3\n"
		       "pick same 2\n"
		       "=======\n"
		       "pick anchor/front 4\n"
		       "pick same 2\n"
		       ">>>>>>> other\n");
	assert_int_equal(l.nconflicts, 1);
	assert_string_equal(l.conflicts[0].msg,
			    "recipe.lock:3: error: the two sides of a git merge pick "
			    "differently for 'anchor/front': 3 here, 4 at line 6");
	struct error err;
	assert_int_equal(lock_writable(&l, &err), -1);
	lock_release(&l);
}

static void
test_lock_diff3_conflict_merges_picks_three_way(void **state)
{
	struct lock l;

	(void)state;
	/* ours changed a, theirs changed b and dropped c: no real conflict */
	parse_lock_str(&l, LOCK_HEAD
		       "<<<<<<< HEAD\n"
		       "pick a 2\npick b 1\npick c 1\n"
		       "||||||| base\n"
		       "pick a 1\npick b 1\npick c 1\n"
		       "=======\n"
		       "pick a 1\npick b 5\n"
		       ">>>>>>> other\n");
	assert_int_equal(l.nconflicts, 0);
	assert_int_equal((int)(uintptr_t)htab_get(&l.picks.byid, "a", 1), 2);
	assert_int_equal((int)(uintptr_t)htab_get(&l.picks.byid, "b", 1), 5);
	assert_null(htab_get(&l.picks.byid, "c", 1));
	lock_release(&l);
}

static void
test_lock_unbalanced_conflict_markers_are_an_error(void **state)
{
	struct lock l;

	(void)state;
	parse_lock_str(&l, LOCK_HEAD "=======\npick a 1\n");
	assert_int_equal(l.nconflicts, 1);
	assert_non_null(strstr(l.conflicts[0].msg, "recipe.lock:2: error:"));
	lock_release(&l);
	parse_lock_str(&l, LOCK_HEAD "<<<<<<< HEAD\npick a 1\n");
	assert_int_equal(l.nconflicts, 1);
	assert_non_null(strstr(l.conflicts[0].msg, "never ends"));
	lock_release(&l);
}

static void
test_lock_path_for(void **state)
{
	char *p;

	(void)state;
	p = lock_path_for("recipes/jinx/recipe.yaml");
	assert_string_equal(p, "recipes/jinx/recipe.lock");
	free(p);
	p = lock_path_for("a.b/recipe");
	assert_string_equal(p, "a.b/recipe.lock");
	free(p);
}

static void
test_tree_parse(void **state)
{
	struct tree_entry *v;
	size_t n;
	char ok[128], bad[] = "xyz\tfile\n";

	(void)state;
	snprintf(ok, sizeof(ok), "%032d\tjinx.zip\n%032d\tsub/a.txt\n", 0, 1);
	assert_int_equal(tree_parse(ok, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].path, "sub/a.txt");
	tree_free(v, n);
	assert_int_equal(tree_parse(bad, &v, &n), -1);
	snprintf(ok, sizeof(ok), "%032d\t../escape\n", 0);
	assert_int_equal(tree_parse(ok, &v, &n), -1);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)state;
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_put_is_content_addressed),
		cmocka_unit_test(test_actions_load_keeps_what_precedes_a_torn_line),
		cmocka_unit_test(test_actions_header_of_another_version_is_rewritten),
		cmocka_unit_test(test_actions_damaged_header_keeps_its_records),
		cmocka_unit_test(test_actions_append_after_a_torn_line_starts_a_fresh_line),
		cmocka_unit_test(test_actions_nul_byte_spoils_its_line_only),
		cmocka_unit_test(test_actions_fields_are_validated),
		cmocka_unit_test(test_pending_skips_torn_and_damaged_lines),
		cmocka_unit_test(test_pending_compacts_finished),
		cmocka_unit_test(test_pending_forgets),
		cmocka_unit_test(test_lock_round_trip_sorted),
		cmocka_unit_test(test_lock_line_with_two_outs_is_refused_not_overflowed),
		cmocka_unit_test(test_lock_line_with_two_requests_is_refused_without_a_leak),
		cmocka_unit_test(test_lock_nul_byte_skips_its_line_not_the_rest),
		cmocka_unit_test(test_lock_line_cut_at_a_field_boundary_is_refused),
		cmocka_unit_test(test_lock_fields_are_validated),
		cmocka_unit_test(test_lock_repeated_line_replaces_without_a_leak),
		cmocka_unit_test(test_lock_round_trips_big_amounts),
		cmocka_unit_test(test_lock_trained_round_trips_and_a_v1_lock_reads),
		cmocka_unit_test(test_lock_of_a_newer_version_is_read_not_rewritten),
		cmocka_unit_test(test_lock_with_gate_lines_is_written_v3_else_v2),
		cmocka_unit_test(test_lock_conflict_unions_node_lines),
		cmocka_unit_test(test_lock_conflicting_picks_name_both_lines),
		cmocka_unit_test(test_lock_diff3_conflict_merges_picks_three_way),
		cmocka_unit_test(test_lock_unbalanced_conflict_markers_are_an_error),
		cmocka_unit_test(test_lock_path_for),
		cmocka_unit_test(test_tree_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
