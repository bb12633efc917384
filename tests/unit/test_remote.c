/*
 * test_remote: unit tests for the pure parts of the remote core
 * (runtime/remote.h, cmocka): the wait after a 429 and the AIMD window
 * of an engine's requests. The state machine is covered by the t30xx and
 * t31xx CLI tests against the fakes in tests/fake/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/remote.h"

/* A 429 waits at least its Retry-After, spread over one more of it. */
static void
test_throttle_spread(void **state)
{
	(void)state;
	assert_int_equal(remote_throttle_ms(1, 1, 0), 1000);
	assert_int_equal(remote_throttle_ms(1, 1, 0.5), 1500);
	assert_true(remote_throttle_ms(1, 1, 0.999) >= 1990);
	/* no Retry-After (or 0): 250 ms doubling per 429 in a row */
	assert_int_equal(remote_throttle_ms(1, -1, 0), 250);
	assert_int_equal(remote_throttle_ms(3, 0, 0), 1000);
	/* the doubling passes a short Retry-After in a long storm */
	assert_int_equal(remote_throttle_ms(4, 1, 0), 2000);
	assert_int_equal(remote_throttle_ms(40, -1, 0), 30000);
	assert_int_equal(remote_throttle_ms(1, 600, 0.9), 300000);
}

/* No limit until a 429; then half of what was in flight. */
static void
test_window_cut(void **state)
{
	struct remote_window w = { 0 };

	(void)state;
	for (int i = 0; i < 16; i++)
		assert_true(remote_window_take(&w));
	remote_window_cut(&w, 10000);
	assert_true(w.size == 8);
	/* a second 429 of the same storm (within a second) cuts nothing */
	remote_window_cut(&w, 10500);
	assert_true(w.size == 8);
	remote_window_cut(&w, 11001);
	assert_true(w.size == 4);
	for (int i = 0; i < 16; i++)
		remote_window_give(&w);
	assert_int_equal(w.held, 0);
	for (int i = 0; i < 4; i++)
		assert_true(remote_window_take(&w));
	assert_false(remote_window_take(&w));
	/* never below one */
	for (int64_t t = 20000; t < 30000; t += 1001)
		remote_window_cut(&w, t);
	assert_true(w.size == 1);
}

/* Each accepted request widens the window by 1/size: about one more
 * place per window's worth of successes. */
static void
test_window_grow(void **state)
{
	struct remote_window w = { .size = 2 };
	int n = 0;

	(void)state;
	while (w.size < 4) {
		remote_window_grow(&w);
		n++;
	}
	assert_true(n >= 4 && n <= 6);
	/* no limit stays no limit */
	w = (struct remote_window){ 0 };
	remote_window_grow(&w);
	assert_true(w.size == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_spread),
		cmocka_unit_test(test_window_cut),
		cmocka_unit_test(test_window_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
