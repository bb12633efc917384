/*
 * Unit tests of the team cache's untrusted inputs: the action record a
 * server answers (cache/remote.c), and the configuration from the
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
#include "cache/remote.h"
#include "runtime/rcache.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define H1 "11111111111111111111111111111111"
#define H2 "22222222222222222222222222222222"
#define HEADER "loramake action v1\n"

static struct hash
key(void)
{
	struct hash h;

	assert_true(hash_parse(KEY, &h));
	return h;
}

/* Parse text as the record of KEY; NULL on refusal, with err. */
static struct action *
parse(const char *text, struct error *err)
{
	struct hash k = key();

	return remote_record_parse(text, strlen(text), &k, err);
}

static void
test_record_round_trip(void **state)
{
	struct hash outs[2], k = key();
	struct action rec = { .key = k, .outs = outs, .nouts = 2, .usd = 0.035,
			      .seed = 42, .request = (char *)"req-1,req-2" };
	struct action *got;
	struct error err;
	struct buf b;

	(void)state;
	assert_true(hash_parse(H1, &outs[0]));
	assert_true(hash_parse(H2, &outs[1]));
	buf_init(&b);
	remote_record_format(&rec, &b);
	assert_string_equal(b.data, HEADER KEY "\t" H1 "," H2 "\t0.035\t42\treq-1,req-2\n");
	got = remote_record_parse(b.data, b.len, &k, &err);
	assert_non_null(got);
	assert_int_equal(got->nouts, 2);
	assert_true(hash_eq(&got->outs[1], &outs[1]));
	assert_int_equal(got->seed, 42);
	assert_string_equal(got->request, "req-1,req-2");
	actions_free_record(got);
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
		struct action *got = parse(bad[i], &err);

		if (got)
			fail_msg("record %zu was taken: %s", i, bad[i]);
		assert_true(err.msg[0] != '\0');
	}
}

static void
test_record_nul_and_size_are_bounded(void **state)
{
	static const char with_nul[] = HEADER KEY "\t" H1 "\t0\t1\t-\n";
	char *big = xmalloc(REMOTE_RECORD_MAX + 2);
	struct hash k = key();
	struct error err;
	char copy[sizeof(with_nul)];

	(void)state;
	memcpy(copy, with_nul, sizeof(copy));
	copy[strlen(HEADER) + 5] = '\0';
	assert_null(remote_record_parse(copy, sizeof(copy) - 1, &k, &err));
	assert_non_null(strstr(err.msg, "NUL"));
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
	struct action rec = { .key = k, .outs = outs, .nouts = ACTIONS_MAX_OUTS };
	struct action *got;
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
	remote_record_format(&rec, &b);
	assert_true(b.len <= REMOTE_RECORD_MAX);
	got = remote_record_parse(b.data, b.len, &k, &err);
	assert_non_null(got);
	actions_free_record(got);
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
		cmocka_unit_test(test_record_nul_and_size_are_bounded),
		cmocka_unit_test(test_record_of_100_objects_fits),
		cmocka_unit_test(test_conf_from_the_environment),
		cmocka_unit_test(test_conf_header_errors_never_quote_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
