/*
 * fuzz_lock: recipe.lock comes from git clones and merges. Parse any
 * bytes; the text it rewrites must read back as itself.
 */
#include "cache/lock.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size), *again;
	struct lock l;
	struct buf once, twice;

	lock_parse(&l, "recipe.lock", text, size);
	buf_init(&once);
	lock_format(&l, &once);
	lock_release(&l);
	again = fuzz_copy((const uint8_t *)once.data, once.len);
	lock_parse(&l, "recipe.lock", again, once.len);
	buf_init(&twice);
	lock_format(&l, &twice);
	FUZZ_ASSERT(fuzz_same(&once, &twice));
	lock_release(&l);
	buf_release(&once);
	buf_release(&twice);
	free(again);
	free(text);
	return 0;
}
