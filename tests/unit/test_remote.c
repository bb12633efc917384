/*
 * test_remote: unit tests for the pure parts of the remote core
 * (runtime/remote.h, cmocka): the wait after a 429, the AIMD window
 * of an engine's requests, and the poll schedule paced by what a model
 * took. The state machine is covered by the t30xx and
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

/* Polls of a job that ends at end_ms on schedule expected_ms: how late it
 * is seen (ms past end_ms) and after how many polls. */
static int64_t
seen_late(int64_t end_ms, int64_t expected_ms, int *polls)
{
	int64_t t = 0;

	for (*polls = 0; t < end_ms; ++*polls)
		t += remote_poll_ms(t, expected_ms);
	return t - end_ms;
}

/* With the model's run time known, a job of that length is seen within
 * 5 % of it; without, within 15 %; neither polls much more. */
static void
test_poll_paced(void **state)
{
	int polls, paced;

	(void)state;
	/* nothing known: the schedule by age */
	assert_int_equal(remote_poll_ms(0, 0), 100);
	assert_int_equal(remote_poll_ms(100, 0), 25);
	assert_int_equal(remote_poll_ms(1000, 0), 150);
	assert_in_range(seen_late(200, 0, &polls), 0, 30);
	/* known 200 ms: no wait past 180 ms, then every 10 ms */
	assert_int_equal(remote_poll_ms(0, 200), 100);
	assert_int_equal(remote_poll_ms(160, 200), 20);
	assert_int_equal(remote_poll_ms(180, 200), 10);
	assert_in_range(seen_late(200, 200, &paced), 0, 10);
	assert_in_range(paced, polls, polls + 4);
	/* a job longer than 120 % of it goes back to the schedule by age */
	assert_int_equal(remote_poll_ms(240, 200), 36);
	/* a 12 s model: seen within 600 ms, not in more polls than by age */
	assert_in_range(seen_late(12000, 12000, &paced), 0, 600);
	seen_late(12000, 0, &polls);
	assert_in_range(paced, 5, polls + 4);
	/* long jobs: steps of at most 5 s */
	assert_int_equal(remote_poll_ms(3600000, 3600000), 5000);
}

/* The expectation moves a quarter of the way to each finished job's
 * midpoint, and is the first midpoint when nothing was known. */
static void
test_pace_learn(void **state)
{
	int64_t e;

	(void)state;
	assert_int_equal(remote_pace_learn(0, 175, 225), 200);
	assert_int_equal(remote_pace_learn(200, 280, 320), 225);
	assert_int_equal(remote_pace_learn(0, 0, 0), 1);
	/* jobs of 200 ms seen at 205 after a poll at 195: it stays near */
	e = 0;
	for (int i = 0; i < 20; i++)
		e = remote_pace_learn(e, 195, 205);
	assert_int_equal(e, 200);
	/* from a wrong guess it converges */
	e = 1000;
	for (int i = 0; i < 40; i++)
		e = remote_pace_learn(e, 195, 205);
	assert_in_range(e, 200, 205);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_spread),
		cmocka_unit_test(test_window_cut),
		cmocka_unit_test(test_window_grow),
		cmocka_unit_test(test_poll_paced),
		cmocka_unit_test(test_pace_learn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
