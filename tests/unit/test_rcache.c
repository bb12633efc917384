/*
 * Unit tests of the team cache's untrusted inputs: the action record a
 * server answers (cache/remote.c: an ActionResult around a text), and
 * its name; the configuration from the
 * environment (runtime/rcache.c), whose errors must never quote the
 * header's secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/pbwire.h"
#include "cache/remote.h"
#include "runtime/rcache.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define H1 "11111111111111111111111111111111"
#define H2 "22222222222222222222222222222222"
#define HEADER "loramake action v1\n"
/* the SHA-256 of "abc": any 64 hex digits name an object on the wire */
#define SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static struct hash
key(void)
{
	struct hash h;

	assert_true(hash_parse(KEY, &h));
	return h;
}

/* An OutputFile of path and a Digest of hash and size, into b. */
static void
put_file(struct buf *b, const char *path, const char *hash, uint64_t size)
{
	struct buf d, f;

	buf_init(&d);
	buf_init(&f);
	pb_put_len_field(&d, 1, hash, strlen(hash));
	pb_put_varint_field(&d, 2, size);
	pb_put_len_field(&f, 1, path, strlen(path));
	pb_put_len_field(&f, 2, d.data, d.len);
	pb_put_len_field(b, 2, f.data, f.len);
	buf_release(&d);
	buf_release(&f);
}

/* Parse text, in an ActionResult naming object H1, as the record of
 * KEY; NULL on refusal, with err. */
static struct remote_record *
parse(const char *text, struct error *err)
{
	struct remote_record *r;
	struct hash k = key();
	struct buf b;

	buf_init(&b);
	put_file(&b, H1, SHA, 3);
	pb_put_len_field(&b, 5, text, strlen(text));
	r = remote_record_parse(b.data, b.len, &k, err);
	buf_release(&b);
	return r;
}

static void
test_record_round_trip(void **state)
{
	static const char text[] = HEADER KEY "\t" H1 "," H2 "\t0.035\t42\treq-1,req-2\n";
	struct hash outs[2], k = key();
	struct action rec = { .key = k, .outs = outs, .nouts = 2, .usd = 0.035,
			      .seed = 42, .request = (char *)"req-1,req-2" };
	struct remote_object objs[2] = { { sha256_bytes("a", 1), 1 },
					 { sha256_bytes("bc", 2), 70000 } };
	struct remote_record *got;
	struct error err;
	struct buf b, meta;

	(void)state;
	assert_true(hash_parse(H1, &outs[0]));
	assert_true(hash_parse(H2, &outs[1]));
	buf_init(&b);
	remote_record_format(&rec, objs, &b);
	/* the text is there as it is, the last field */
	assert_true(b.len > sizeof(text));
	assert_memory_equal(b.data + b.len - (sizeof(text) - 1), text, sizeof(text) - 1);
	/* bazel-remote adds execution_metadata { worker }: skipped */
	buf_init(&meta);
	pb_put_len_field(&meta, 1, "127.0.0.1", 9);
	pb_put_len_field(&b, 9, meta.data, meta.len);
	got = remote_record_parse(b.data, b.len, &k, &err);
	assert_non_null(got);
	assert_int_equal(got->action->nouts, 2);
	assert_true(hash_eq(&got->action->outs[1], &outs[1]));
	assert_int_equal(got->action->seed, 42);
	assert_string_equal(got->action->request, "req-1,req-2");
	assert_memory_equal(&got->objs[1].cas, &objs[1].cas, sizeof(objs[1].cas));
	assert_int_equal(got->objs[0].size, 1);
	assert_int_equal(got->objs[1].size, 70000);
	remote_record_free(got);
	buf_release(&meta);
	buf_release(&b);
}

static void
test_record_malformed_is_refused(void **state)
{
	static const char *const bad[] = {
		"",                                             /* empty */
		HEADER,                                         /* no action line */
		"loramake action v1",                           /* header torn */
		HEADER KEY "\t" H1 "\t0\t1\t-",                 /* line torn */
		"loramake action v2\n" KEY "\t" H1 "\t0\t1\t-\n", /* other version */
		"# loramake actions v1\n" KEY "\t" H1 "\t0\t1\t-\n", /* the log's header */
		KEY "\t" H1 "\t0\t1\t-\n",                      /* no header */
		HEADER KEY "\t" H1 "\t0\t1\n",                  /* a field missing */
		HEADER KEY "\t" H1 "\t0\t1\t-\textra\n",        /* one too many */
		HEADER KEY "\t\t0\t1\t-\n",                     /* no object */
		HEADER KEY "\t" H1 ",\t0\t1\t-\n",              /* an empty object */
		HEADER KEY "\t1111\t0\t1\t-\n",                 /* a short hash */
		HEADER KEY "\t" H1 "\t-1\t1\t-\n",              /* negative dollars */
		HEADER KEY "\t" H1 "\tnan\t1\t-\n",             /* not a number */
		HEADER KEY "\t" H1 "\t0\t-5\t-\n",              /* negative seed */
		HEADER KEY "\t" H1 "\t0\t1\ta b\n",             /* a request id with a space */
		HEADER KEY "\t" H1 "\t0\t1\t\x1b[31m\n",        /* an escape sequence */
		HEADER KEY "\t" H1 "\t0\t1\t-\n" KEY "\t" H2 "\t0\t1\t-\n", /* two lines */
		HEADER H2 "\t" H1 "\t0\t1\t-\n",                /* another key's record */
		"<html>404 Not Found</html>\n",                 /* a server's page */
	};
	struct error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct remote_record *got = parse(bad[i], &err);

		if (got)
			fail_msg("record %zu was taken: %s", i, bad[i]);
		assert_true(err.msg[0] != '\0');
	}
}

/* The ActionResult around a good text: each object's output file must
 * name it, with a SHA-256 and a size in bounds; the message well formed. */
static void
test_record_message_malformed_is_refused(void **state)
{
	static const char text[] = HEADER KEY "\t" H1 "\t0\t1\t-\n";
	struct remote_record *got;
	struct hash k = key();
	struct error err;
	struct buf b;

	(void)state;
	for (int i = 0; i < 11; i++) {
		buf_init(&b);
		switch (i) {
		case 0: put_file(&b, H2, SHA, 3); break;            /* another object */
		case 1: put_file(&b, H1, H1, 3); break;             /* not a SHA-256 */
		case 2: put_file(&b, H1, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 3); break;
		case 3: put_file(&b, H1, SHA, REMOTE_OBJECT_MAX + 1ull); break;
		case 4: break;                                      /* no output file */
		case 5: put_file(&b, H1, SHA, 3); put_file(&b, H2, SHA, 3); break;
		case 6: put_file(&b, H1, SHA, 3);
			pb_put_len_field(&b, 5, text, strlen(text)); break; /* two texts */
		case 7: put_file(&b, H1, SHA, 3);
			pb_put_varint_field(&b, 5, 7); break;       /* text as a number */
		case 8: pb_put_varint_field(&b, 2, 1); break;       /* file as a number */
		case 9: put_file(&b, "", SHA, 3); break;            /* no path */
		case 10: buf_adds(&b, "<html>Not Found</html>"); break;
		}
		pb_put_len_field(&b, 5, text, strlen(text));
		got = remote_record_parse(b.data, b.len, &k, &err);
		if (got)
			fail_msg("message %d was taken", i);
		assert_true(err.msg[0] != '\0');
		buf_release(&b);
	}
	/* the good one, and the same cut anywhere */
	buf_init(&b);
	put_file(&b, H1, SHA, 3);
	pb_put_len_field(&b, 5, text, strlen(text));
	got = remote_record_parse(b.data, b.len, &k, &err);
	assert_non_null(got);
	remote_record_free(got);
	for (size_t cut = 0; cut < b.len; cut++)
		assert_null(remote_record_parse(b.data, cut, &k, &err));
	buf_release(&b);
}

static void
test_record_name_is_the_sha256_of_the_key_hex(void **state)
{
	char name[SHA256_HEX_LEN + 1];
	struct hash k = key();
	struct sha256 want = sha256_bytes(KEY, strlen(KEY));
	char hex[SHA256_HEX_LEN + 1];

	(void)state;
	remote_ac_name(&k, name);
	sha256_hex(&want, hex);
	assert_string_equal(name, hex);
}

static void
test_record_nul_and_size_are_bounded(void **state)
{
	static const char with_nul[] = HEADER KEY "\t" H1 "\t0\t1\t-\n";
	char *big = xmalloc(REMOTE_RECORD_MAX + 2);
	struct hash k = key();
	struct error err;
	char copy[sizeof(with_nul)];
	struct buf b;

	(void)state;
	memcpy(copy, with_nul, sizeof(copy));
	copy[strlen(HEADER) + 5] = '\0';
	buf_init(&b);
	put_file(&b, H1, SHA, 3);
	pb_put_len_field(&b, 5, copy, sizeof(copy) - 1);
	assert_null(remote_record_parse(b.data, b.len, &k, &err));
	assert_non_null(strstr(err.msg, "NUL"));
	buf_release(&b);
	memset(big, 'a', REMOTE_RECORD_MAX + 1);
	big[REMOTE_RECORD_MAX + 1] = '\0';
	assert_null(remote_record_parse(big, REMOTE_RECORD_MAX + 1, &k, &err));
	assert_non_null(strstr(err.msg, "more than"));
	free(big);
}

static void
test_record_of_100_objects_fits(void **state)
{
	struct hash outs[ACTIONS_MAX_OUTS], k = key();
	struct remote_object objs[ACTIONS_MAX_OUTS] = { { { { 0 } }, 0 } };
	struct action rec = { .key = k, .outs = outs, .nouts = ACTIONS_MAX_OUTS };
	struct remote_record *got;
	struct buf b, req;
	struct error err;

	(void)state;
	buf_init(&req);
	for (size_t i = 0; i < ACTIONS_MAX_OUTS; i++) {
		assert_true(hash_parse(H1, &outs[i]));
		buf_addf(&req, "%s%0128zu", i ? "," : "", i);
	}
	rec.request = req.data;
	buf_init(&b);
	for (size_t i = 0; i < ACTIONS_MAX_OUTS; i++)
		objs[i].size = REMOTE_OBJECT_MAX;
	remote_record_format(&rec, objs, &b);
	assert_true(b.len <= REMOTE_RECORD_MAX);
	got = remote_record_parse(b.data, b.len, &k, &err);
	assert_non_null(got);
	remote_record_free(got);
	buf_release(&b);
	buf_release(&req);
}

static void
test_conf_from_the_environment(void **state)
{
	struct rcache_conf c;
	struct error err;

	(void)state;
	unsetenv("LORAMAKE_REMOTE_CACHE");
	unsetenv("LORAMAKE_REMOTE_CACHE_HEADER");
	assert_int_equal(rcache_conf_load(&c, NULL, &err), 0);
	assert_int_equal(c.mode, RCACHE_OFF);
	/* a mode with no cache named is a usage error */
	assert_int_equal(rcache_conf_load(&c, "read", &err), -1);
	setenv("LORAMAKE_REMOTE_CACHE", "https://cache.example/team/", 1);
	assert_int_equal(rcache_conf_load(&c, NULL, &err), 0);
	assert_int_equal(c.mode, RCACHE_READWRITE);
	assert_string_equal(c.base, "https://cache.example/team");
	rcache_conf_release(&c);
	assert_int_equal(rcache_conf_load(&c, "off", &err), 0);
	assert_int_equal(c.mode, RCACHE_OFF);
	assert_int_equal(rcache_conf_load(&c, "sometimes", &err), -1);
	/* plain http only to loopback; no query */
	setenv("LORAMAKE_REMOTE_CACHE", "http://cache.example", 1);
	assert_int_equal(rcache_conf_load(&c, NULL, &err), -1);
	setenv("LORAMAKE_REMOTE_CACHE", "http://127.0.0.1:9090", 1);
	assert_int_equal(rcache_conf_load(&c, "read", &err), 0);
	assert_int_equal(c.mode, RCACHE_READ);
	rcache_conf_release(&c);
	setenv("LORAMAKE_REMOTE_CACHE", "https://cache.example/?token=x", 1);
	assert_int_equal(rcache_conf_load(&c, NULL, &err), -1);
	unsetenv("LORAMAKE_REMOTE_CACHE");
}

static void
test_conf_header_errors_never_quote_it(void **state)
{
	static const char *const bad[] = {
		"Authorization Bearer s3cr3t-value",     /* no colon */
		"Author ization: s3cr3t-value",          /* not a token */
		"Authorization: s3cr3t-value\r\nX: y",   /* two lines */
		"Authorization:   ",                     /* no value */
		": s3cr3t-value",                        /* no name */
	};
	struct rcache_conf c;
	struct error err;

	(void)state;
	setenv("LORAMAKE_REMOTE_CACHE", "https://cache.example", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		setenv("LORAMAKE_REMOTE_CACHE_HEADER", bad[i], 1);
		assert_int_equal(rcache_conf_load(&c, NULL, &err), -1);
		assert_null(strstr(err.msg, "s3cr3t"));
	}
	setenv("LORAMAKE_REMOTE_CACHE_HEADER", "Authorization: Bearer s3cr3t-value", 1);
	assert_int_equal(rcache_conf_load(&c, NULL, &err), 0);
	assert_string_equal(c.header, "Authorization: Bearer s3cr3t-value");
	assert_string_equal(c.secret, "Bearer s3cr3t-value");
	rcache_conf_release(&c);
	unsetenv("LORAMAKE_REMOTE_CACHE_HEADER");
	unsetenv("LORAMAKE_REMOTE_CACHE");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_record_malformed_is_refused),
		cmocka_unit_test(test_record_message_malformed_is_refused),
		cmocka_unit_test(test_record_name_is_the_sha256_of_the_key_hex),
		cmocka_unit_test(test_record_nul_and_size_are_bounded),
		cmocka_unit_test(test_record_of_100_objects_fits),
		cmocka_unit_test(test_conf_from_the_environment),
		cmocka_unit_test(test_conf_header_errors_never_quote_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
