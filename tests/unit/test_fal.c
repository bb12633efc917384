/*
 * test_fal: unit tests for the pure parts of the fal.ai engine
 * (runtime/engines/fal.h, cmocka): the input JSON per endpoint (and the
 * request describe shows plan, built by the same code), the
 * camera table of the multiple-angles endpoint, rendering of the
 * service's error bodies (cleaned of the key and of controls), base64,
 * and the retry and poll schedules (the URL rule is test_url.c's). The HTTP state machine is covered by the t3xxx-fal CLI
 * tests against tests/fake/fal_server.py.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compiler/dag.h"
#include "compiler/recipe.h"
#include "runtime/engine.h"
#include "runtime/engines/fal.h"

/* A node as the compiler would make it for the fields fal reads. */
static struct node
make_node(const char *model, const char *prompt, const char *item)
{
	struct node n;

	memset(&n, 0, sizeof(n));
	n.id = "test/node";
	n.model = model;
	n.prompt = prompt;
	n.item = item;
	n.strength = -1;
	n.candidates = 1;
	n.seed = 1000;
	return n;
}

/* The input JSON for candidate cand of n, parsed; asserts it builds. */
static json_t *
input_of(const struct node *n, const char *const *images, size_t nimages,
	 int cand)
{
	struct error err = { "" };
	char *text = fal_input_json(n, images, nimages, cand, &err);
	json_t *o;

	if (!text)
		fail_msg("fal_input_json: %s", err.msg);
	o = json_loads(text, 0, NULL);
	assert_non_null(o);
	free(text);
	return o;
}

static const char *
str_of(json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (!s)
		fail_msg("no string member '%s'", name);
	return s;
}

static long long
int_of(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v))
		fail_msg("no integer member '%s'", name);
	return json_integer_value(v);
}

static double
num_of(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_number(v))
		fail_msg("no number member '%s'", name);
	return json_number_value(v);
}

static const char *const one_image[] = { "data:image/png;base64,AAAA" };
static const char *const two_images[] = {
	"data:image/png;base64,AAAA", "https://v3.fal.media/files/b.png"
};

static void
test_input_ultra(void **state)
{
	struct node n = make_node("fal-ai/flux-pro/v1.1-ultra", "a cat", NULL);
	json_t *o = input_of(&n, NULL, 0, 1);

	assert_string_equal(str_of(o, "prompt"), "a cat");
	assert_int_equal(int_of(o, "seed"), 1000);
	assert_int_equal(int_of(o, "num_images"), 1);
	assert_string_equal(str_of(o, "output_format"), "png");
	assert_null(json_object_get(o, "image_url"));
	assert_null(json_object_get(o, "strength"));
	json_decref(o);
}

static void
test_input_i2i(void **state)
{
	struct node n = make_node("fal-ai/flux/dev/image-to-image", "squat",
				  "squat");
	json_t *o;

	n.strength = 0.55;
	o = input_of(&n, two_images, 2, 3);
	assert_string_equal(str_of(o, "image_url"), two_images[0]);
	assert_null(json_object_get(o, "image_urls"));
	assert_string_equal(str_of(o, "prompt"), "squat");
	assert_true(num_of(o, "strength") == 0.55);
	assert_int_equal(int_of(o, "seed"), 1002); /* candidate 3 */
	json_decref(o);
}

static void
test_input_angles(void **state)
{
	struct node n = make_node("fal-ai/qwen-image-edit-2511-multiple-angles",
				  "JINX, in left profile", "profile_left");
	json_t *o;

	n.negative = "blurry";
	o = input_of(&n, two_images, 2, 1);
	assert_int_equal(json_array_size(json_object_get(o, "image_urls")), 2);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(o, "image_urls"), 1)),
			    two_images[1]);
	assert_null(json_object_get(o, "image_url"));
	assert_null(json_object_get(o, "prompt"));
	assert_true(num_of(o, "horizontal_angle") == 270);
	assert_true(num_of(o, "vertical_angle") == 0);
	assert_true(num_of(o, "zoom") == 5);
	assert_string_equal(str_of(o, "negative_prompt"), "blurry");
	json_decref(o);
}

static void
test_input_angles_unknown(void **state)
{
	struct node n = make_node("fal-ai/qwen-image-edit-2511-multiple-angles",
				  NULL, "dutch_tilt");
	struct param p = { "horizontal_angle", "30", false };
	struct error err = { "" };
	char *text = fal_input_json(&n, one_image, 1, 1, &err);
	json_t *o;

	assert_null(text);
	assert_non_null(strstr(err.msg, "'dutch'"));
	assert_non_null(strstr(err.msg, "horizontal_angle"));
	/* the recipe may place the camera itself */
	n.params = &p;
	n.nparams = 1;
	o = input_of(&n, one_image, 1, 1);
	assert_true(num_of(o, "horizontal_angle") == 30);
	assert_null(json_object_get(o, "zoom"));
	json_decref(o);
}

static void
test_input_edit(void **state)
{
	struct node n = make_node("fal-ai/nano-banana-pro/edit",
				  "Expression: tired", "tired");
	json_t *o = input_of(&n, one_image, 1, 1);

	assert_string_equal(str_of(o, "prompt"), "Expression: tired");
	assert_int_equal(json_array_size(json_object_get(o, "image_urls")), 1);
	assert_int_equal(int_of(o, "num_images"), 1);
	assert_string_equal(str_of(o, "output_format"), "png");
	json_decref(o);
}

static void
test_input_upscale(void **state)
{
	struct node n = make_node("fal-ai/seedvr/upscale/image", "words", NULL);
	json_t *o = input_of(&n, one_image, 1, 1);

	assert_string_equal(str_of(o, "image_url"), one_image[0]);
	assert_null(json_object_get(o, "prompt"));
	assert_null(json_object_get(o, "num_images"));
	assert_string_equal(str_of(o, "output_format"), "png");
	json_decref(o);
}

static void
test_input_generic_params(void **state)
{
	struct node n = make_node("someone/some-model/v2", "a dog", NULL);
	struct param p[] = {
		{ "guidance_scale", "3.5", false },
		{ "image_size", "{\"height\":768,\"width\":512}", false },
		{ "safety_tolerance", "\"2\"", true },
		{ "seed", "7", false },
		{ "enable_safety_checker", "false", false },
	};
	json_t *o;

	n.params = p;
	n.nparams = LM_ARRAY_LEN(p);
	o = input_of(&n, two_images, 2, 2);
	assert_string_equal(str_of(o, "prompt"), "a dog");
	assert_string_equal(str_of(o, "image_url"), two_images[0]);
	assert_null(json_object_get(o, "num_images"));
	assert_null(json_object_get(o, "output_format"));
	assert_true(num_of(o, "guidance_scale") == 3.5);
	assert_int_equal(int_of(json_object_get(o, "image_size"), "width"), 512);
	assert_string_equal(str_of(o, "safety_tolerance"), "2");
	assert_int_equal(int_of(o, "seed"), 7); /* params win */
	assert_true(json_is_false(json_object_get(o, "enable_safety_checker")));
	json_decref(o);
}

/* A number goes out as the recipe wrote it: 0.0007, never jansson's
 * 17-digit 0.00069999999999999999. */
static void
test_input_numbers_as_written(void **state)
{
	struct node n = make_node("someone/some-model/v2", "a dog", NULL);
	struct param p[] = {
		{ "learning_rate", "0.0007", false },
		{ "lora_scale", "0.8", false },
		{ "guidance", "0.00015", false },
	};
	struct error err = { "" };
	char *text;

	(void)state;
	n.params = p;
	n.nparams = LM_ARRAY_LEN(p);
	text = fal_input_json(&n, NULL, 0, 1, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"learning_rate\":0.0007,"));
	assert_non_null(strstr(text, "\"lora_scale\":0.8,"));
	assert_non_null(strstr(text, "\"guidance\":0.00015"));
	free(text);
}

static void
test_input_params_override(void **state)
{
	struct node n = make_node("fal-ai/flux-pro/v1.1-ultra", "a cat", NULL);
	struct param p[] = {
		{ "aspect_ratio", "\"1:1\"", true },
		{ "output_format", "\"jpeg\"", true },
		{ "prompt", "\"other\"", true },
	};
	json_t *o;

	n.params = p;
	n.nparams = LM_ARRAY_LEN(p);
	o = input_of(&n, NULL, 0, 1);
	assert_string_equal(str_of(o, "aspect_ratio"), "1:1");
	assert_string_equal(str_of(o, "output_format"), "jpeg");
	assert_string_equal(str_of(o, "prompt"), "other");
	json_decref(o);
}

static void
test_input_bad_param(void **state)
{
	struct node n = make_node("fal-ai/flux-pro/v1.1-ultra", "a cat", NULL);
	struct param p = { "x", "{nope", false };
	struct error err = { "" };

	n.params = &p;
	n.nparams = 1;
	assert_null(fal_input_json(&n, NULL, 0, 1, &err));
	assert_non_null(strstr(err.msg, "param 'x'"));
}

static void
test_describe_is_what_is_sent(void **state)
{
	/* plan shows what describe gives; a build submits the same builder's */
	struct node n = make_node("fal-ai/nano-banana-pro/edit", "smile", "smile");
	struct engine_decl d = { .name = "fal", .type = "fal",
				 .url = "http://127.0.0.1:9/" };
	const struct engine *e = engine_find("fal");
	struct engine_request rq;
	struct error err;
	char *body = fal_input_json(&n, one_image, 1, 2, &err);

	(void)state;
	assert_non_null(e->describe);
	assert_int_equal(e->describe(&n, &d, one_image, 1, 2, &rq, &err), 0);
	assert_string_equal(rq.method, "POST");
	assert_string_equal(rq.url, "http://127.0.0.1:9/fal-ai/nano-banana-pro/edit");
	assert_string_equal(rq.body, body);
	assert_string_equal(rq.key_header, "Authorization: Key <redacted>");
	engine_request_release(&rq);
	assert_int_equal(e->describe(&n, NULL, one_image, 1, 2, &rq, &err), 0);
	assert_string_equal(rq.url, "https://queue.fal.run/fal-ai/nano-banana-pro/edit");
	engine_request_release(&rq);
	free(body);
	/* engines that send no request have no describe */
	assert_null(engine_find("preview")->describe);
	assert_null(engine_find("local")->describe);
}

static void
test_seed(void **state)
{
	assert_int_equal(fal_seed(5, 1), 5);
	assert_int_equal(fal_seed(5, 3), 7);
	assert_int_equal(fal_seed(4294967295LL, 2), 0);
	assert_int_equal(fal_seed(4294967296LL + 9, 1), 9);
	assert_int_equal(fal_seed(0, 10), 9);
}

/* fal_detail of a body given as text. */
static const char *
detail(const char *body)
{
	static char out[512];

	fal_detail(body, body ? strlen(body) : 0, NULL, out, sizeof(out));
	return out;
}

static void
test_detail(void **state)
{
	assert_string_equal(
		detail("{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"prompt\"],"
		       "\"msg\":\"Field required\",\"input\":{}}]}"),
		"prompt: Field required");
	assert_string_equal(
		detail("{\"detail\":[{\"loc\":[\"body\",\"image_urls\",0],"
		       "\"msg\":\"Invalid URL\"},{\"loc\":[\"body\",\"zoom\"],"
		       "\"msg\":\"Input should be less than or equal to 10\"}]}"),
		"image_urls[0]: Invalid URL; zoom: Input should be less than or equal to 10");
	assert_string_equal(detail("{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"bad\"}]}"),
			    "bad");
	assert_string_equal(detail("{\"detail\":[{\"loc\":[\"query\",\"logs\"],\"msg\":\"m\"}]}"),
			    "query.logs: m");
	assert_string_equal(detail("{\"detail\":\"Invalid API key\"}"),
			    "Invalid API key");
	assert_string_equal(detail("{\"detail\":\"two\\nlines\"}"), "two lines");
	assert_string_equal(detail("{\"error\":\"Invalid status code: 500\"}"),
			    "Invalid status code: 500");
	assert_string_equal(detail("<html><center>nginx</center></html>"), "");
	assert_string_equal(detail(""), "");
	assert_string_equal(detail(NULL), "");
	assert_string_equal(detail("{\"status\":\"IN_QUEUE\"}"), "");
}

static void
test_detail_truncates(void **state)
{
	char body[4096], out[32];

	snprintf(body, sizeof(body), "{\"detail\":\"%0*d\"}", 2000, 0);
	fal_detail(body, strlen(body), NULL, out, sizeof(out));
	assert_int_equal(strlen(out), sizeof(out) - 1);
}

/* An error body that echoes the request's headers, and one with terminal
 * escapes: the key never comes out, not even half of it at the cut, and
 * no control does. */
static void
test_detail_cleans(void **state)
{
	static const char key[] = "sk-SECRET-123";
	char out[64];
	const char *body = "{\"detail\":\"bad header Authorization: Key sk-SECRET-123\"}";
	const char *esc = "{\"detail\":\"\\u001b[2J\\u001b]0;owned\\u0007 \\u009b \\u007f\"}";

	fal_detail(body, strlen(body), key, out, sizeof(out));
	assert_string_equal(out, "bad header Authorization: Key [redacted]");
	/* cut inside the key: the redaction still happens first */
	fal_detail(body, strlen(body), key, out, 36);
	assert_null(strstr(out, "sk-"));
	fal_detail(esc, strlen(esc), key, out, sizeof(out));
	assert_string_equal(out, "\\x1b[2J\\x1b]0;owned\\x07 \\u009b \\x7f");
}

static void
test_base64(void **state)
{
	static const char *const vec[][2] = {
		{ "", "" },         { "f", "Zg==" },        { "fo", "Zm8=" },
		{ "foo", "Zm9v" },  { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	unsigned char bytes[1000];
	struct buf b;

	for (size_t i = 0; i < LM_ARRAY_LEN(vec); i++) {
		char *e = fal_base64(vec[i][0], strlen(vec[i][0]));

		assert_string_equal(e, vec[i][1]);
		free(e);
		buf_init(&b);
		assert_int_equal(fal_unbase64(vec[i][1], strlen(vec[i][1]), &b), 0);
		assert_string_equal(b.data, vec[i][0]);
		buf_release(&b);
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 131 + 7);
	for (size_t n = 0; n < 40; n++) {
		char *e = fal_base64(bytes, n * 25);

		buf_init(&b);
		assert_int_equal(fal_unbase64(e, strlen(e), &b), 0);
		assert_int_equal(b.len, n * 25);
		assert_memory_equal(b.data, bytes, n * 25);
		buf_release(&b);
		free(e);
	}
	buf_init(&b);
	assert_int_equal(fal_unbase64("Zm9v\nYmFy", 9, &b), 0);
	assert_string_equal(b.data, "foobar");
	buf_reset(&b);
	assert_int_equal(fal_unbase64("Zm9v!", 5, &b), -1);
	buf_reset(&b);
	assert_int_equal(fal_unbase64("Zg==Zg", 6, &b), -1);
	buf_reset(&b);
	assert_int_equal(fal_unbase64("Z", 1, &b), -1);
	buf_release(&b);
}

static void
test_backoff(void **state)
{
	/* middle jitter: the plain schedule */
	assert_int_equal(fal_backoff_ms(1, -1, 0.5), 500);
	assert_int_equal(fal_backoff_ms(2, -1, 0.5), 1000);
	assert_int_equal(fal_backoff_ms(3, -1, 0.5), 2000);
	assert_int_equal(fal_backoff_ms(6, -1, 0.5), 16000);
	assert_int_equal(fal_backoff_ms(7, -1, 0.5), 30000);
	assert_int_equal(fal_backoff_ms(40, -1, 0.5), 30000);
	/* jitter: +-25 % */
	assert_int_equal(fal_backoff_ms(1, -1, 0), 375);
	assert_in_range(fal_backoff_ms(1, -1, 0.9999), 620, 625);
	assert_in_range(fal_backoff_ms(40, -1, 0.9999), 37490, 37500);
	/* Retry-After wins, never shortened, capped at 5 minutes */
	assert_int_equal(fal_backoff_ms(1, 3, 0), 3000);
	assert_int_equal(fal_backoff_ms(5, 3, 0), 3000);
	assert_int_equal(fal_backoff_ms(1, 2, 1), 2500);
	assert_int_equal(fal_backoff_ms(1, 0, 0.5), 0);
	assert_int_equal(fal_backoff_ms(1, 1e6, 0), 300000);
	assert_int_equal(fal_backoff_ms(1, 0.25, 0), 250);
}

static void
test_poll(void **state)
{
	int64_t t = 0;
	int polls = 0;

	assert_int_equal(fal_poll_ms(0), 100);
	assert_int_equal(fal_poll_ms(60), 40);
	assert_int_equal(fal_poll_ms(100), 25);
	assert_int_equal(fal_poll_ms(1000), 150);
	assert_int_equal(fal_poll_ms(40000), 5000);
	assert_int_equal(fal_poll_ms(1000000), 5000);
	/* a 200 ms job is seen within 15 %; a 12 s job costs < 40 polls */
	while (t < 200) {
		t += fal_poll_ms(t);
		polls++;
	}
	assert_in_range(t, 200, 230);
	assert_in_range(polls, 2, 8);
	for (t = 0, polls = 0; t < 12000; polls++)
		t += fal_poll_ms(t);
	assert_in_range(t, 12000, 13800);
	assert_in_range(polls, 10, 40);
}

static void
test_retryable(void **state)
{
	static const long yes[] = { 429, 500, 502, 503, 504 };
	static const long no[] = { 200, 202, 400, 401, 403, 404, 408, 422, 499, 501 };

	for (size_t i = 0; i < LM_ARRAY_LEN(yes); i++)
		assert_true(fal_retryable(yes[i], NULL));
	for (size_t i = 0; i < LM_ARRAY_LEN(no); i++)
		assert_false(fal_retryable(no[i], NULL));
	assert_false(fal_retryable(504, "user"));
	assert_false(fal_retryable(504, "USER"));
	assert_true(fal_retryable(504, "runner"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_input_ultra),
		cmocka_unit_test(test_input_i2i),
		cmocka_unit_test(test_input_angles),
		cmocka_unit_test(test_input_angles_unknown),
		cmocka_unit_test(test_input_edit),
		cmocka_unit_test(test_input_upscale),
		cmocka_unit_test(test_input_generic_params),
		cmocka_unit_test(test_input_params_override),
		cmocka_unit_test(test_input_numbers_as_written),
		cmocka_unit_test(test_input_bad_param),
		cmocka_unit_test(test_describe_is_what_is_sent),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_detail),
		cmocka_unit_test(test_detail_truncates),
		cmocka_unit_test(test_detail_cleans),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_retryable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
