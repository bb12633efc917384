/*
 * fuzz_recipe: a recipe is a stranger's file. Compile any bytes, from a
 * folder of its own; every error is a diagnostic, never a crash.
 */
#include <stdio.h>
#include <unistd.h>

#include "base/path.h"
#include "compiler/dag.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *recipe_path;
static FILE *sink;

static void
setup(void)
{
	char dir[] = "/tmp/lm-fuzz-recipe-XXXXXX";

	if (!mkdtemp(dir))
		fatal(1, "mkdtemp:");
	recipe_path = path_join(dir, "recipe.yaml");
	sink = fopen("/dev/null", "w");
	if (!sink)
		fatal(1, "/dev/null:");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct dag *dag;

	if (!recipe_path)
		setup();
	if (write_file_atomic(recipe_path, data, size, NULL) < 0)
		return 0;
	diag_init(&d, sink);
	dag = compile(recipe_path, NULL, &d);
	FUZZ_ASSERT(dag ? d.nerrors == 0 : d.nerrors > 0);
	dag_free(dag);
	return 0;
}
