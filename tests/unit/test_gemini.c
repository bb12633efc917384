/*
 * test_gemini: unit tests for the answer parsing of the Gemini engine
 * (runtime/engines/gemini.h, cmocka): the image part picked past thought
 * parts and text, each way an answer says there is no image (a blocked
 * prompt, a refusal finishReason, text only, no candidate), an answer
 * that is not whole, the key redacted from the service's words, and the
 * RetryInfo delay of a 429. The call itself is covered by the
 * t33xx-gemini CLI tests against tests/fake/gemini_fake.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/engines/gemini.h"

static void
parse(const char *body, struct gemini_answer *a)
{
	gemini_parse_answer(body, strlen(body), "AIza-SECRET", a);
}

/* The image is the first non-thought inlineData with an image type. */
static void
test_image_past_thoughts_and_text(void **state)
{
	struct gemini_answer a;

	(void)state;
	parse("{\"candidates\":[{\"content\":{\"parts\":["
	      "{\"thought\":true,\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"RFJBRlQ=\"}},"
	      "{\"text\":\"Here it is\"},"
	      "{\"inlineData\":{\"mimeType\":\"text/plain\",\"data\":\"eA==\"}},"
	      "{\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"SU1BR0U=\"}}]},"
	      "\"finishReason\":\"STOP\"}],\"responseId\":\"abc_DEF-123\"}", &a);
	assert_int_equal(a.outcome, GEMINI_IMAGE);
	assert_string_equal(a.mime, "image/jpeg");
	assert_string_equal(a.data, "SU1BR0U=");
	assert_string_equal(a.id, "abc_DEF-123");
	gemini_answer_release(&a);
}

/* A responseId that is not a token is not kept (it goes into the lock). */
static void
test_odd_response_id_dropped(void **state)
{
	struct gemini_answer a;

	(void)state;
	parse("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
	      "{\"mimeType\":\"image/png\",\"data\":\"eA==\"}}]}}],"
	      "\"responseId\":\"a b\\n\"}", &a);
	assert_int_equal(a.outcome, GEMINI_IMAGE);
	assert_null(a.id);
	gemini_answer_release(&a);
}

static void
test_blocked_prompt(void **state)
{
	struct gemini_answer a;

	(void)state;
	parse("{\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\","
	      "\"blockReasonMessage\":\"no AIza-SECRET\\there\"}}", &a);
	assert_int_equal(a.outcome, GEMINI_BLOCKED);
	assert_string_equal(a.why, "the prompt was blocked (PROHIBITED_CONTENT): no [redacted] here");
	gemini_answer_release(&a);
}

static void
test_refusal_finish_reason(void **state)
{
	struct gemini_answer a;

	(void)state;
	parse("{\"candidates\":[{\"content\":{\"parts\":[]},"
	      "\"finishReason\":\"IMAGE_SAFETY\"}]}", &a);
	assert_int_equal(a.outcome, GEMINI_BLOCKED);
	assert_string_equal(a.why, "finishReason IMAGE_SAFETY");
	gemini_answer_release(&a);
}

/* Text only, or no candidate at all: no image, with what there is. */
static void
test_no_image(void **state)
{
	struct gemini_answer a;

	(void)state;
	parse("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"I cannot\\ndraw\"}]},"
	      "\"finishReason\":\"STOP\"}]}", &a);
	assert_int_equal(a.outcome, GEMINI_NO_IMAGE);
	assert_string_equal(a.why, "finishReason STOP, the model said: I cannot draw");
	gemini_answer_release(&a);
	parse("{\"usageMetadata\":{}}", &a);
	assert_int_equal(a.outcome, GEMINI_NO_IMAGE);
	assert_string_equal(a.why, "no candidate");
	gemini_answer_release(&a);
	/* a thought is never the answer */
	parse("{\"candidates\":[{\"content\":{\"parts\":[{\"thought\":true,"
	      "\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"eA==\"}}]},"
	      "\"finishReason\":\"NO_IMAGE\"}]}", &a);
	assert_int_equal(a.outcome, GEMINI_NO_IMAGE);
	assert_string_equal(a.why, "finishReason NO_IMAGE");
	gemini_answer_release(&a);
}

static void
test_unreadable(void **state)
{
	struct gemini_answer a;

	(void)state;
	parse("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"mimeT", &a);
	assert_int_equal(a.outcome, GEMINI_UNREADABLE);
	gemini_answer_release(&a);
	parse("[1, 2]", &a);
	assert_int_equal(a.outcome, GEMINI_UNREADABLE);
	gemini_answer_release(&a);
}

static void
test_retry_delay(void **state)
{
	const char *b = "{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\","
			"\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\"},"
			"{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"37s\"}]}}";
	const char *frac = "{\"error\":{\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"1.5s\"}]}}";
	const char *bad = "{\"error\":{\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"soon\"}]}}";

	(void)state;
	assert_true(gemini_retry_delay(b, strlen(b)) == 37);
	assert_true(gemini_retry_delay(frac, strlen(frac)) == 1.5);
	assert_true(gemini_retry_delay(bad, strlen(bad)) < 0);
	assert_true(gemini_retry_delay("{}", 2) < 0);
	assert_true(gemini_retry_delay("", 0) < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_past_thoughts_and_text),
		cmocka_unit_test(test_odd_response_id_dropped),
		cmocka_unit_test(test_blocked_prompt),
		cmocka_unit_test(test_refusal_finish_reason),
		cmocka_unit_test(test_no_image),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_retry_delay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
