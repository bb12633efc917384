/*
 * Unit tests of the recipe compiler: node keys are a function of what
 * decides an output and of nothing else (formatting, order, comments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/path.h"
#include "compiler/dag.h"
#include "compiler/placeholder.h"

static char tmpdir[] = "/tmp/lm-unit-XXXXXX";

/* Compile yaml text (written to a file in tmpdir); errors go to errbuf. */
static struct dag *
compile_text(const char *yaml, char *errbuf, size_t errsz)
{
	char *path = path_join(tmpdir, "recipe.yaml");
	FILE *mem = fmemopen(errbuf, errsz, "w");
	struct diag d;
	struct dag *dag;

	assert_int_equal(write_file_atomic(path, yaml, strlen(yaml), NULL), 0);
	diag_init(&d, mem);
	dag = compile(path, NULL, &d);
	fclose(mem);
	free(path);
	return dag;
}

static struct dag *
must_compile(const char *yaml)
{
	char err[4096] = "";
	struct dag *dag = compile_text(yaml, err, sizeof(err));

	if (!dag)
		fail_msg("compile failed: %s", err);
	return dag;
}

static const char *
key_of(const struct dag *dag, const char *id)
{
	static char hex[HASH_HEX_LEN + 1];
	const struct node *n = dag_find(dag, id);

	if (!n)
		fail_msg("no node %s", id);
	hash_hex(&n->key, hex);
	return hex;
}

#define BASE                                                                  \
	"loramake: 1\nname: t\ntrigger: TCHAR\n"                              \
	"engines: { fal: { type: fal } }\n"                                    \
	"character: { prompt: a red fox in a blue coat }\n"

static const char recipe_a[] = BASE
	"anchor:\n"
	"  engine: fal\n"
	"  model: fal-ai/flux-pro/v1.1-ultra\n"
	"  items:\n"
	"    front: standing, front view\n"
	"    back: standing, back view\n"
	"angle:\n"
	"  engine: fal\n"
	"  model: fal-ai/flux/dev/image-to-image\n"
	"  items:\n"
	"    wave: { from: anchor/front, prompt: waving, strength: 0.50 }\n"
	"    sit: { from: anchor/back, prompt: sitting, strength: 0.4, count: 2 }\n";

/* The same recipe: keys reordered, flow <-> block, quotes, comments. */
static const char recipe_b[] =
	"# a comment\n"
	"angle:\n"
	"  items:\n"
	"    sit:\n"
	"      count: 2\n"
	"      strength: .4\n"
	"      prompt: 'sitting'\n"
	"      from: \"anchor/back\"\n"
	"    wave: {strength: 0.5, prompt: \"waving\", from: anchor/front}\n"
	"  model: fal-ai/flux/dev/image-to-image   # i2i\n"
	"  engine: fal\n"
	"anchor: { model: fal-ai/flux-pro/v1.1-ultra, engine: fal, items: { back: 'standing, back view', front: \"standing, front view\" } }\n"
	"character:\n  prompt: \"a red fox in a blue coat\"\n"
	"engines:\n  fal:\n    type: fal\n    concurrency: 3\n"
	"trigger: TCHAR\nname: t\nloramake: 1\n";

static void
test_reformatting_changes_no_key(void **state)
{
	struct dag *a = must_compile(recipe_a), *b = must_compile(recipe_b);

	(void)state;
	assert_int_equal(a->nnodes, b->nnodes);
	for (size_t i = 0; i < a->nnodes; i++) {
		const struct node *n = a->nodes[i];
		char ka[HASH_HEX_LEN + 1];

		strcpy(ka, key_of(a, n->id));
		assert_string_equal(ka, key_of(b, n->id));
	}
	dag_free(a);
	dag_free(b);
}

/* Whether N is E or hangs below it: E is among its inputs, or the image a
 * caption describes, transitively. */
static bool
at_or_below(const struct node *n, const struct node *e)
{
	if (n == e)
		return true;
	if (n->subject && at_or_below(n->subject, e))
		return true;
	for (size_t i = 0; i < n->nin; i++)
		if (at_or_below(n->in[i], e))
			return true;
	return false;
}

static void
test_edit_changes_only_below(void **state)
{
	/* recipe_a with an upscale of every image, a caption and a package:
	 * nodes below angle/wave, and beside it */
	static const char below[] = "upscale: { engine: fal, model: fal-ai/seedvr/upscale/image }\n"
				    "caption: { }\npackage: { size: 512 }\n";
	char *orig = xasprintf("%s%s", recipe_a, below);
	char *edited = xstrdup(orig);
	struct dag *a, *b;
	const struct node *wave;
	size_t nbelow = 0, nbeside = 0;

	(void)state;
	memcpy(strstr(edited, "waving"), "waxing", 6);
	a = must_compile(orig);
	b = must_compile(edited);
	wave = dag_find(a, "angle/wave");
	assert_non_null(wave);
	for (size_t i = 0; i < a->nnodes; i++) {
		const struct node *n = a->nodes[i];
		char ka[HASH_HEX_LEN + 1];

		strcpy(ka, key_of(a, n->id));
		if (at_or_below(n, wave)) {
			assert_string_not_equal(ka, key_of(b, n->id));
			nbelow++;
		} else {
			if (strcmp(ka, key_of(b, n->id)))
				fail_msg("%s changed, but is not below angle/wave", n->id);
			nbeside++;
		}
	}
	/* angle/wave, upscale/wave, its caption and the package; beside
	 * them the anchors, sit and its upscales and captions */
	assert_true(nbelow >= 4);
	assert_true(nbeside >= 4);
	assert_non_null(dag_find(a, "upscale/wave"));
	assert_true(at_or_below(dag_find(a, "upscale/wave"), wave));
	dag_free(a);
	dag_free(b);
	free(orig);
	free(edited);
}

static void
test_input_change_propagates(void **state)
{
	char *edited = xstrdup(recipe_a);
	char *p = strstr(edited, "standing, back view");
	struct dag *a, *b;

	(void)state;
	memcpy(p, "kneeling", 8);
	a = must_compile(recipe_a);
	b = must_compile(edited);
	char k1[HASH_HEX_LEN + 1];
	strcpy(k1, key_of(a, "angle/sit/1"));
	assert_string_not_equal(k1, key_of(b, "angle/sit/1"));
	strcpy(k1, key_of(a, "angle/wave"));
	assert_string_equal(k1, key_of(b, "angle/wave"));
	/* the facet that changed is the input, not the prompt */
	const struct node *na = dag_find(a, "angle/sit/1"), *nb = dag_find(b, "angle/sit/1");
	assert_true(hash_eq(&na->facets[FACET_PROMPT], &nb->facets[FACET_PROMPT]));
	assert_false(hash_eq(&na->facets[FACET_INPUTS], &nb->facets[FACET_INPUTS]));
	dag_free(a);
	dag_free(b);
	free(edited);
}

static void
test_count_makes_distinct_nodes_and_seeds(void **state)
{
	struct dag *a = must_compile(recipe_a);
	const struct node *s1 = dag_find(a, "angle/sit/1"), *s2 = dag_find(a, "angle/sit/2");

	(void)state;
	assert_non_null(s1);
	assert_non_null(s2);
	assert_null(dag_find(a, "angle/sit"));
	assert_false(hash_eq(&s1->key, &s2->key));
	assert_int_not_equal(s1->seed, s2->seed);
	assert_false(s1->seed_fixed);
	dag_free(a);
}

static void
test_prompt_resolves_placeholders(void **state)
{
	struct dag *a = must_compile(recipe_a);

	(void)state;
	assert_string_equal(dag_find(a, "anchor/front")->prompt,
			    "a red fox in a blue coat, standing, front view");
	assert_string_equal(dag_find(a, "angle/wave")->prompt, "waving");
	dag_free(a);
}

static void
test_fixed_seed(void **state)
{
	char *seeded = xasprintf("%sseed: 7\n", recipe_a);
	struct dag *a = must_compile(seeded);

	(void)state;
	assert_true(dag_find(a, "anchor/front")->seed_fixed);
	assert_int_equal(dag_find(a, "anchor/front")->seed, 7);
	assert_int_equal(dag_find(a, "angle/sit/2")->seed, 8);
	dag_free(a);
	free(seeded);
}

/* Compiling YAML fails with an error at AT ("LINE:COL") saying NEEDLE. */
static void
expect_error(const char *yaml, const char *at, const char *needle)
{
	char err[4096] = "";
	struct dag *dag = compile_text(yaml, err, sizeof(err));
	char *want = xasprintf("recipe.yaml:%s: error: ", at);

	if (dag)
		fail_msg("expected an error with '%s'", needle);
	if (!strstr(err, needle))
		fail_msg("expected '%s' in: %s", needle, err);
	if (!strstr(err, want))
		fail_msg("expected '%s' in: %s", want, err);
	free(want);
}

static void
test_errors_are_located(void **state)
{
	(void)state;
	/* BASE is 5 lines: the sections below start on line 6 */
	expect_error(BASE "anchor: { engine: fal, model: m, items: { a: x }, stregth: 1 }\n",
		     "6:51", "did you mean 'strength'");
	expect_error(BASE "angle: { engine: fal, model: m, items: { a: { from: anchor/nope } } }\n",
		     "6:53", "unknown node 'anchor/nope'");
	expect_error(BASE "anchor: { engine: fal, model: m, prompt: \"{charactr}\", items: { a: x } }\n",
		     "6:43", "unknown placeholder {charactr}");
	expect_error(BASE "anchor: { engine: fal, model: m, items: { a: { strength: 2 } } }\n",
		     "6:58", "strength must be between 0 and 1");
	expect_error("loramake: 1\na: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		     "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
		     "8:4", "expand to more than");
	expect_error("", "1:1", "the recipe is empty");
	expect_error(BASE "hero: { file: ../../etc/passwd }\n", "6:15", "outside the recipe's folder");
}

static void
test_placeholder_subst(void **state)
{
	struct arena a;
	struct placeholder_vars v = { .item = "waving", .character = "fox" };
	struct placeholder_error pe;

	(void)state;
	arena_init(&a);
	assert_string_equal(placeholder_subst(&a, "{character}: {item} {{x}}", &v, &pe),
			    "fox: waving {x}");
	assert_null(placeholder_subst(&a, "ok {environment}", &v, &pe));
	assert_int_equal(pe.offset, 3);
	assert_non_null(strstr(pe.msg, "no value"));
	assert_null(placeholder_subst(&a, "{nope", &v, &pe));
	arena_release(&a);
}

/* format_double prints the shortest text that reads back as the same
 * double: what keys hash, so equal values have one spelling. 1e308 and
 * -1e300 once went through a cast to long long they do not fit (undefined;
 * UBSan's float-cast-overflow caught it). */
static void
test_format_double_prints_the_shortest_that_reads_back(void **state)
{
	static const struct {
		double d;
		const char *text;
	} cases[] = {
		{ 0.5, "0.5" }, { 0.55, "0.55" }, { 3.0, "3" }, { -2.0, "-2" },
		{ 0.1 + 0.2, "0.30000000000000004" }, { 1e15, "1e+15" },
		{ 123456789012345.0, "123456789012345" }, { 1e308, "1e+308" },
		{ -1e300, "-1e+300" }, { 0.035, "0.035" },
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		format_double(out, sizeof(out), cases[i].d);
		assert_string_equal(out, cases[i].text);
		assert_true(strtod(out, NULL) == cases[i].d);
	}
}

static void
test_recipe_without_images_is_refused(void **state)
{
	char err[4096] = "";

	(void)state;
	/* every expander still runs on empty leaves (take_leaves passed NULL
	 * to memcpy, settle_leaves NULL to qsort) before the refusal */
	assert_null(compile_text("loramake: 1\nname: x\ntrigger: zqx\ntarget: flux2\n"
				 "engines: { gen: { type: preview } }\n"
				 "expression: { engine: gen, items: [smile] }\n"
				 "environment: { engine: gen, rotate: [a beach] }\n",
				 err, sizeof(err)));
	assert_non_null(strstr(err, "recipe.yaml:1:1: error: the recipe makes no images"));
}

/* The hero of a recipe whose hero has params: PARAMS. */
static struct dag *
hero_with_params(const char *params)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml),
		 "loramake: 1\ntrigger: zqx\nengines: { gen: { type: preview } }\n"
		 "hero: { engine: gen, prompt: a fox, params: %s }\n", params);
	return must_compile(yaml);
}

/*
 * In params:, values are sent as YAML types them: a quoted number is a
 * string, so it is sent as one and keyed apart from the number, while
 * spellings of one number are one key (docs/keys.md).
 */
static void
test_quoted_param_number_is_a_string(void **state)
{
	struct dag *num = hero_with_params("{ guidance_scale: 3.5 }");
	struct dag *same = hero_with_params("{ guidance_scale: 3.50 }");
	struct dag *quoted = hero_with_params("{ guidance_scale: \"3.5\" }");
	const struct node *n = dag_find(num, "hero"), *q = dag_find(quoted, "hero");
	char k[HASH_HEX_LEN + 1];

	(void)state;
	assert_int_equal(n->nparams, 1);
	assert_string_equal(n->params[0].value, "3.5");
	assert_false(n->params[0].is_string);
	assert_int_equal(q->nparams, 1);
	assert_string_equal(q->params[0].value, "\"3.5\"");
	assert_true(q->params[0].is_string);
	strcpy(k, key_of(num, "hero"));
	assert_string_equal(k, key_of(same, "hero"));
	assert_string_not_equal(k, key_of(quoted, "hero"));
	dag_free(num);
	dag_free(same);
	dag_free(quoted);
}

/* The value node id sends for param name, or NULL when it sends none. */
static const char *
param_of(const struct dag *dag, const char *id, const char *name)
{
	const struct node *n = dag_find(dag, id);

	if (!n)
		fail_msg("no node %s", id);
	for (size_t i = 0; i < n->nparams; i++)
		if (strcmp(n->params[i].name, name) == 0)
			return n->params[i].value;
	return NULL;
}

static void
test_item_params_merge_over_the_sections(void **state)
{
	/* an item with params of its own was sent without the section's
	 * loras: the image would have been made without the user's LoRA */
	struct dag *dag = must_compile(BASE
		"anchor:\n"
		"  engine: fal\n"
		"  model: fal-ai/flux-lora\n"
		"  params:\n"
		"    loras: [{ path: https://x.test/fox.safetensors, scale: 0.8 }]\n"
		"    guidance_scale: 3.5\n"
		"    acceleration: high\n"
		"  items:\n"
		"    plain: standing\n"
		"    steps: { text: sitting, params: { num_inference_steps: 30, guidance_scale: 4 } }\n"
		"    other: { text: lying, params: { loras: [{ path: https://x.test/b.safetensors }], acceleration: null } }\n");
	const char *loras = "[{\"path\":\"https://x.test/fox.safetensors\",\"scale\":0.8}]";

	(void)state;
	assert_int_equal(dag_find(dag, "anchor/plain")->nparams, 3);
	assert_string_equal(param_of(dag, "anchor/steps", "loras"), loras);
	assert_string_equal(param_of(dag, "anchor/steps", "acceleration"), "\"high\"");
	assert_string_equal(param_of(dag, "anchor/steps", "guidance_scale"), "4");
	assert_string_equal(param_of(dag, "anchor/steps", "num_inference_steps"), "30");
	assert_int_equal(dag_find(dag, "anchor/steps")->nparams, 4);
	/* a value is taken whole: the item's list replaces the section's;
	 * null takes the section's key away */
	assert_string_equal(param_of(dag, "anchor/other", "loras"),
			    "[{\"path\":\"https://x.test/b.safetensors\"}]");
	assert_null(param_of(dag, "anchor/other", "acceleration"));
	assert_string_equal(param_of(dag, "anchor/other", "guidance_scale"), "3.5");
	assert_int_equal(dag_find(dag, "anchor/other")->nparams, 2);
	dag_free(dag);
}

static void
test_section_params_key_items_without_their_own_as_before(void **state)
{
	/* items without params share the section's: their keys are those of
	 * the same recipe with the params written in another order */
	struct dag *a = must_compile(BASE
		"anchor: { engine: fal, model: fal-ai/flux-lora, items: [a, b],\n"
		"  params: { loras: [{ path: p, scale: 1 }], guidance_scale: 3 } }\n");
	struct dag *b = must_compile(BASE
		"anchor: { engine: fal, model: fal-ai/flux-lora, items: [a, b],\n"
		"  params: { guidance_scale: 3.0, loras: [{ scale: 1, path: p }] } }\n");
	char ka[HASH_HEX_LEN + 1];

	(void)state;
	strcpy(ka, key_of(a, "anchor/a"));
	assert_string_equal(ka, key_of(b, "anchor/a"));
	assert_ptr_equal(dag_find(a, "anchor/a")->params,
			 a->recipe.sec[KIND_ANCHOR].params);
	dag_free(a);
	dag_free(b);
}

static void
test_fields_an_endpoint_drops_are_said(void **state)
{
	char err[4096] = "";
	struct dag *dag;

	(void)state;
	/* set on the item or section: an error where it is written */
	expect_error(BASE "anchor: { engine: fal, model: fal-ai/nano-banana-pro, items: { a: { strength: 0.5 } } }\n",
		     "6:79", "takes no strength: anchor/a would be made without it");
	expect_error(BASE "anchor: { engine: fal, model: fal-ai/flux-pro/v1.1, negative: blur, items: [a] }\n",
		     "6:63", "takes no negative prompt: the anchor nodes (anchor/a, ...)");
	/* --engine preview judges the recipe as it would run */
	{
		struct compile_opts o = { .engine_override = "preview" };
		char *path = path_join(tmpdir, "recipe.yaml");
		const char *y = BASE "anchor: { engine: fal, model: fal-ai/flux-pro/v1.1, strength: 0.5, items: [a] }\n";
		FILE *mem = fmemopen(err, sizeof(err), "w");
		struct diag d;

		assert_int_equal(write_file_atomic(path, y, strlen(y), NULL), 0);
		diag_init(&d, mem);
		assert_null(compile(path, &o, &d));
		fclose(mem);
		free(path);
		assert_non_null(strstr(err, "takes no strength"));
	}
	/* the endpoints that take them, and a model the type does not know */
	dag = must_compile(BASE "anchor: { engine: fal, model: fal-ai/flux/dev/image-to-image, strength: 0.5, items: [a] }\n"
			   "angle: { engine: fal, model: fal-ai/qwen-image-edit-2511-multiple-angles, negative: blur, from: anchor/a, items: [front] }\n"
			   "expression: { engine: fal, model: someone/new-model, strength: 0.3, negative: blur, items: [smile] }\n");
	dag_free(dag);
	/* inherited from the character: a warning, once per section */
	memset(err, 0, sizeof(err));
	dag = compile_text("loramake: 1\nname: t\ntrigger: TCHAR\n"
			   "engines: { fal: { type: fal } }\n"
			   "character: { prompt: a fox, negative: blur }\n"
			   "anchor: { engine: fal, model: fal-ai/flux-pro/v1.1, items: [a, b, c] }\n",
			   err, sizeof(err));
	assert_non_null(dag);
	assert_non_null(strstr(err, "recipe.yaml:5:39: warning: fal-ai/flux-pro/v1.1 takes no negative prompt: "
				    "the character's negative: is not sent to anchor/a and 2 more anchor nodes"));
	assert_null(strstr(strstr(err, "warning") + 1, "warning:"));
	dag_free(dag);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char *p = path_join(tmpdir, "recipe.yaml");

	(void)state;
	unlink(p);
	free(p);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reformatting_changes_no_key),
		cmocka_unit_test(test_edit_changes_only_below),
		cmocka_unit_test(test_input_change_propagates),
		cmocka_unit_test(test_count_makes_distinct_nodes_and_seeds),
		cmocka_unit_test(test_prompt_resolves_placeholders),
		cmocka_unit_test(test_fixed_seed),
		cmocka_unit_test(test_errors_are_located),
		cmocka_unit_test(test_placeholder_subst),
		cmocka_unit_test(test_format_double_prints_the_shortest_that_reads_back),
		cmocka_unit_test(test_recipe_without_images_is_refused),
		cmocka_unit_test(test_quoted_param_number_is_a_string),
		cmocka_unit_test(test_item_params_merge_over_the_sections),
		cmocka_unit_test(test_section_params_key_items_without_their_own_as_before),
		cmocka_unit_test(test_fields_an_endpoint_drops_are_said),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
