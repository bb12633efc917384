/*
 * Unit tests of compiler/engine_type.c: the one table of engine facts
 * agrees with the engines loramake can run, and answers the questions
 * the compiler, the estimate and the key policy ask of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/engine_type.h"
#include "compiler/estimate.h"
#include "runtime/engine.h"

/* A type the table says runs has a runtime engine, and no other does:
 * the table and runtime/engine.c cannot drift apart. */
static void
test_runs_matches_the_runtime_engines(void **state)
{
	size_t n;
	const struct engine_type *t = engine_types(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		bool has = engine_find(t[i].name) != NULL;

		/* "file" is a source image: no job, no engine */
		if (strcmp(t[i].name, "file") == 0)
			continue;
		if (has != t[i].runs)
			fail_msg("type '%s': runs = %d, runtime engine %s", t[i].name,
				 t[i].runs, has ? "exists" : "missing");
	}
}

/* Servers on the user's machine are remote (HTTP, model:) and free; the
 * estimate and the dag read the same row. */
static void
test_comfyui_is_remote_and_free(void **state)
{
	const struct engine_type *c = engine_type_find("comfyui");

	(void)state;
	assert_non_null(c);
	assert_true(c->remote);
	assert_true(estimate_price(NULL, "comfyui", "sdxl") == 0);
	assert_string_equal(c->default_url, "http://127.0.0.1:8188");
	assert_string_equal(engine_type_find("a1111")->default_url,
			    "http://127.0.0.1:7860");
	assert_false(engine_type_find("preview")->remote);
}

static void
test_keys_and_hosts_are_the_vendors(void **state)
{
	const struct engine_type *fal = engine_type_find("fal");
	const struct engine_type *gem = engine_type_find("gemini");

	(void)state;
	assert_string_equal(fal->key_envs[0], "FAL_KEY");
	assert_true(engine_type_documents_key(gem, "GOOGLE_API_KEY"));
	assert_true(engine_type_documents_key(gem, "GEMINI_API_KEY"));
	assert_false(engine_type_documents_key(fal, "GITHUB_TOKEN"));
	assert_string_equal(engine_type_find("replicate")->key_envs[0],
			    "REPLICATE_API_TOKEN");
	assert_true(engine_type_vendor_host(fal, "queue.fal.run"));
	assert_true(engine_type_vendor_host(fal, "v3.fal.media"));
	assert_false(engine_type_vendor_host(fal, "evilfal.media"));
	assert_false(engine_type_vendor_host(fal, "fal.run.evil.com"));
	assert_true(engine_type_vendor_host(engine_type_find("replicate"),
					    "api.replicate.com"));
	assert_null(engine_type_find("comfyui")->key_envs);
}

static void
test_prices_and_families(void **state)
{
	const struct engine_type *fal = engine_type_find("fal");

	(void)state;
	assert_true(estimate_price(NULL, "fal", "fal-ai/flux/dev/image-to-image") == 0.03);
	assert_true(estimate_price(NULL, "fal", "no/such-model") > 0);
	assert_int_equal(engine_type_family(fal, "fal-ai/flux-lora/image-to-image"),
			 FAMILY_I2I);
	assert_true(model_family_fields(FAMILY_I2I) & FIELD_STRENGTH);
	assert_false(model_family_fields(FAMILY_EDIT) & FIELD_NEGATIVE);
	assert_true(model_family_fields(FAMILY_ANGLES) & FIELD_NEGATIVE);
}

/* refs: are bounded by what each model's request carries (the source and
 * refs in all); a model the table does not know has its type's bound. */
static void
test_max_images(void **state)
{
	const struct engine_type *gem = engine_type_find("gemini");
	const struct engine_type *fal = engine_type_find("fal");

	(void)state;
	assert_int_equal(engine_type_max_images(gem, "gemini-2.5-flash-image"), 3);
	assert_int_equal(engine_type_max_images(gem, "gemini-9-unknown"), 3);
	assert_int_equal(engine_type_max_images(fal, "fal-ai/nano-banana-pro/edit"), 14);
	assert_int_equal(engine_type_max_images(fal, "fal-ai/flux/dev/image-to-image"), 1);
	assert_int_equal(engine_type_max_images(fal, "fal-ai/flux-pro/v1.1-ultra"), 0);
	assert_int_equal(engine_type_max_images(NULL, "x"), -1);
}

static void
test_type_list_reads_as_english(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(engine_type_list(buf, sizeof(buf), true),
			    "fal, replicate, gemini, comfyui, a1111, local or preview");
}

/* Every trainer says what it makes: one LoRA file, or (WAN 2.2) one for
 * each expert, each with its result member, its name and its expert;
 * each target's default trainer and validator agree on how many files. */
static void
test_trainers_say_their_lora_files(void **state)
{
	const char *targets[] = { "flux", "flux2", "zimage", "wan22" };
	const struct engine_type *fal = engine_type_find("fal");
	size_t n;
	const struct engine_type *t = engine_types(&n);

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t m = 0; m < t[i].nmodels; m++) {
			const struct trainer *tr = t[i].models[m].train;

			if (!tr)
				continue;
			assert_in_range(tr->nfiles, 1, TRAINER_MAX_FILES);
			for (int k = 0; k < tr->nfiles; k++) {
				assert_non_null(tr->files[k].field);
				assert_true((tr->nfiles > 1) == (tr->files[k].name != NULL));
				assert_true((tr->nfiles > 1) == (tr->files[k].expert != NULL));
			}
		}
	for (size_t i = 0; i < sizeof(targets) / sizeof(*targets); i++) {
		const char *tm = engine_type_default_trainer(targets[i]);
		const char *vm = engine_type_default_validator("fal", targets[i]);
		const struct trainer *tr = engine_type_trainer(fal, tm);
		bool experts;

		assert_non_null(tr);
		if (!vm)
			continue; /* zimage: no validator known */
		experts = engine_type_family(fal, vm) == FAMILY_LORA_EXPERTS;
		assert_int_equal(experts, tr->nfiles > 1);
	}
	assert_int_equal(engine_type_trainer(fal, "fal-ai/wan-22-image-trainer")->nfiles, 2);
	assert_string_equal(engine_type_trainer(fal, "fal-ai/wan-22-image-trainer")->files[1].field,
			    "high_noise_lora");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_matches_the_runtime_engines),
		cmocka_unit_test(test_comfyui_is_remote_and_free),
		cmocka_unit_test(test_keys_and_hosts_are_the_vendors),
		cmocka_unit_test(test_prices_and_families),
		cmocka_unit_test(test_max_images),
		cmocka_unit_test(test_type_list_reads_as_english),
		cmocka_unit_test(test_trainers_say_their_lora_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
